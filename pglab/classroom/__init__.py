"""A class on one shared PostgreSQL server: a database and a login role per learner."""
