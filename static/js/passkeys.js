// Staff passkeys (WebAuthn): create one, or log in with one. The server makes the options
// (with a challenge kept on the login session) and checks the answer. No inline script (CSP).
(function () {
  "use strict";
  if (!window.PublicKeyCredential || !navigator.credentials) { return; }  // sections stay hidden
  document.querySelectorAll("[data-passkey-section]").forEach(function (s) { s.hidden = false; });

  function toBytes(b64url) {
    var b64 = b64url.replace(/-/g, "+").replace(/_/g, "/");
    while (b64.length % 4) { b64 += "="; }
    var raw = atob(b64), bytes = new Uint8Array(raw.length);
    for (var i = 0; i < raw.length; i++) { bytes[i] = raw.charCodeAt(i); }
    return bytes.buffer;
  }

  function toB64url(buffer) {
    if (!buffer) { return null; }
    var bytes = new Uint8Array(buffer), raw = "";
    for (var i = 0; i < bytes.length; i++) { raw += String.fromCharCode(bytes[i]); }
    return btoa(raw).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }

  function csrfToken() {
    try { return JSON.parse(document.body.getAttribute("hx-headers"))["X-CSRFToken"]; }
    catch (e) { return ""; }
  }

  function post(url, body) {
    return fetch(url, {
      method: "POST", credentials: "same-origin",
      headers: {"Content-Type": "application/json", "X-CSRFToken": csrfToken()},
      body: body === undefined ? "{}" : JSON.stringify(body)
    }).then(function (r) {
      return r.json().then(function (data) { return {ok: r.ok, data: data}; });
    });
  }

  function creationOptions(o) {
    o.challenge = toBytes(o.challenge);
    o.user.id = toBytes(o.user.id);
    (o.excludeCredentials || []).forEach(function (c) { c.id = toBytes(c.id); });
    return o;
  }

  function requestOptions(o) {
    o.challenge = toBytes(o.challenge);
    (o.allowCredentials || []).forEach(function (c) { c.id = toBytes(c.id); });
    return o;
  }

  // What the server reads of a credential: the same fields for both ceremonies, with the
  // ceremony's own response fields.
  function credential(cred, response) {
    var r = cred.response;
    response.clientDataJSON = toB64url(r.clientDataJSON);
    return {id: cred.id, rawId: toB64url(cred.rawId), type: cred.type,
      authenticatorAttachment: cred.authenticatorAttachment || null,
      clientExtensionResults: cred.getClientExtensionResults ? cred.getClientExtensionResults() : {},
      response: response};
  }

  function created(cred) {
    var r = cred.response;
    return credential(cred, {attestationObject: toB64url(r.attestationObject),
      transports: r.getTransports ? r.getTransports() : []});
  }

  function asserted(cred) {
    var r = cred.response;
    return credential(cred, {authenticatorData: toB64url(r.authenticatorData),
      signature: toB64url(r.signature), userHandle: toB64url(r.userHandle)});
  }

  function showError(button, message) {
    var box = document.getElementById("passkey-error");
    if (box) {
      box.textContent = message || button.getAttribute("data-failed");
      box.hidden = false;
    }
  }

  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-passkey]");
    if (!button) { return; }
    event.preventDefault();
    var register = button.getAttribute("data-passkey") === "register";
    var box = document.getElementById("passkey-error");
    if (box) { box.hidden = true; }
    button.disabled = true;
    post(button.getAttribute("data-options-url")).then(function (answer) {
      if (!answer.ok) { throw answer.data; }
      return register
        ? navigator.credentials.create({publicKey: creationOptions(answer.data)}).then(created)
        : navigator.credentials.get({publicKey: requestOptions(answer.data)}).then(asserted);
    }).then(function (credential) {
      return post(button.getAttribute("data-verify-url"), credential);
    }).then(function (answer) {
      if (answer.data && answer.data.next) { window.location.assign(answer.data.next); return; }
      throw answer.data;
    }).catch(function (problem) {
      button.disabled = false;
      showError(button, problem && problem.message && problem.status === "error" ? problem.message : null);
    });
  });
})();
