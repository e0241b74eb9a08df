"""The project's policy pack (``pulumi preview --policy-pack policy``); ``rules`` holds the checks."""
