"""nbgrader course configuration for pglab (run nbgrader commands from this folder).

Source notebooks live in ../solutions, the student release in ../notebooks/challenges; submissions,
autograded copies, feedback and the gradebook stay in this folder (git-ignored).
"""

import os
from pathlib import Path

from nbconvert.preprocessors import CSSHTMLHeaderPreprocessor
from nbgrader.preprocessors import ClearHiddenTests, GetGrades

c = get_config()  # noqa: F821 - provided by traitlets when nbgrader loads this file

ROOT = Path(__file__).resolve().parent.parent

c.CourseDirectory.course_id = "pglab"
c.CourseDirectory.root = str(ROOT)
c.CourseDirectory.source_directory = "solutions"
c.CourseDirectory.release_directory = "notebooks/challenges"
c.CourseDirectory.submitted_directory = "grader/submitted"
c.CourseDirectory.autograded_directory = "grader/autograded"
c.CourseDirectory.feedback_directory = "grader/feedback"
c.CourseDirectory.db_url = f"sqlite:///{ROOT / 'grader' / 'gradebook.db'}"
# On the class's JupyterHub the exchange is shared (`pglab hub` sets PGLAB_EXCHANGE); alone, it stays here.
c.Exchange.root = os.environ.get("PGLAB_EXCHANGE") or str(ROOT / "grader" / "exchange")

# Release: the answer cell keeps its def/class line; only the body between the markers is cleared.
c.ClearSolutions.code_stub = {"python": "# YOUR CODE HERE\nraise NotImplementedError()"}
c.ClearSolutions.begin_solution_delimeter = "BEGIN SOLUTION"
c.ClearSolutions.end_solution_delimeter = "END SOLUTION"

# Autograde: a cell gets 30 s; checks may create threads and pools.
c.Execute.timeout = 30

# Feedback: never show the restored hidden tests' source to learners.
c.GenerateFeedback.preprocessors = [GetGrades, ClearHiddenTests, CSSHTMLHeaderPreprocessor]
