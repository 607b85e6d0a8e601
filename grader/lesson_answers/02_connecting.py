# Reference answers to the exercises of Part 2 (instructor-side: not in the learner bundle).

# %% Exercise 2.1
def connect_as(url: str, app_name: str) -> psycopg2.extensions.connection:
    return psycopg2.connect(url, application_name=app_name, connect_timeout=5)

# %% Exercise 2.2
def diagnose(url: str) -> str:
    try:
        psycopg2.connect(url, connect_timeout=5).close()
    except psycopg2.OperationalError as err:
        return "refused by the server" if "FATAL" in str(err) else "nothing listens"
    return "connected"
