"""What grading writes for people: feedback pages, the nbgrader gradebook, the class report."""
