# Unit tests of the data layer (added to cltci_tests).
