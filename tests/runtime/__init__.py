"""Runtime tests: the lab's containers run for real, in Linux namespaces, as their pods would."""
