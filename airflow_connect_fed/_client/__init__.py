"""The provider's service logic, private: the hook and the ``connect-fed`` command are adapters over it."""
