// Every record of one kind (its label from the vocabulary) with its name and input fields (canonical JSON), for `cofi match`.
MATCH (n:{{label}})
RETURN n.id AS id, n.name AS name, n.props AS props
