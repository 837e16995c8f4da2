// A company's owners up the holding chain, at most five levels, with each share.
MATCH chain = (c:Company {id: $company_id})<-[:OWNS]-{1,5}(owner)
RETURN chain
