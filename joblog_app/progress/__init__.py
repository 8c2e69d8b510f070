"""This period's job searches against the citizen's requirement, and STAR's smiley."""
