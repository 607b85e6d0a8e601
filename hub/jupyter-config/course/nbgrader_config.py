"""nbgrader in every hub user's JupyterLab: the course id and the class exchange.

The hub's spawn hook puts this folder on JUPYTER_CONFIG_PATH; the exchange root comes from
PGLAB_EXCHANGE (set by the hub), so the Assignments panel fetches and submits there.
"""

import os

c = get_config()  # noqa: F821 - provided by traitlets when nbgrader loads this file

c.CourseDirectory.course_id = "pglab"
c.Exchange.root = os.environ.get("PGLAB_EXCHANGE", "/srv/nbgrader/exchange")
# Submissions readable by their learner and the instructors only (nbgrader's own leaves them 0777/0644).
c.ExchangeFactory.submit = "pglab.classroom.private_submissions.PrivateExchangeSubmit"
