# Unit tests of the ssl layer (added to cltci_tests).
