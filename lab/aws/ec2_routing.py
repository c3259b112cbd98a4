"""TGW routing details moto lacks or gets wrong: CIDR blocks, routes, route search, associations, propagations."""

HANDLERS = {}
