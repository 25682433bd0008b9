"""Account lifecycle flows: email links, one-time codes, password set/change/reset."""
