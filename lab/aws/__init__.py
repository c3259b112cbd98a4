"""Local AWS stand-in: moto plus what moto lacks (TGW Connect, TGW routing details, Network Firewall)."""
