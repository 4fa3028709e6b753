# Unit tests of the config layer (added to cltci_tests).
