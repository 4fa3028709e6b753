# Unit tests of the engine layer (added to cltci_tests).
