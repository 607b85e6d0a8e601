"""What runs in a learner's kernel: lesson set-up and checks, challenge set-up and *Check your work*."""
