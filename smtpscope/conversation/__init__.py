"""The conversation layer: greet, STARTTLS, AUTH, message, routes and the send queue, once for every front end."""
