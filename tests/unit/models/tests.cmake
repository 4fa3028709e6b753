# Unit tests of the models layer (added to cltci_tests).
