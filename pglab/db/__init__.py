"""The course's PostgreSQL: the embedded server, the course data, making sure the database exists."""
