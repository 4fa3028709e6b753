# Unit tests of the run layer (added to cltci_tests).
