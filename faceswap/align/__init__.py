"""Face geometry shared by every stage: the reference template, alignment transforms, masks."""
