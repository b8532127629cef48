"""A small hand-written set with planted strategies, for the analysis tests.

One problem ("two consecutive integers sum to 41; the larger?") solved by two
strategies, each paraphrased several times:

- algebra: name the smaller integer n, write n + (n + 1) = 41, solve for n;
- enumeration: try pairs of consecutive integers until the sum is 41.

A second, unrelated problem (the area of a rectangle) gives the pipeline more
than one problem to keep apart.
"""

from __future__ import annotations

PROBLEM = "Two consecutive integers add up to 41. What is the larger of the two?"
ANSWER = "21"

ALGEBRA = [
    "Let the smaller integer be \\(n\\). Then the larger one is \\(n + 1\\).\n\n"
    "Their sum is \\(n + (n + 1) = 2n + 1\\), and we are told it equals 41, so\n\n\\[2n + 1 = 41.\\]\n\n"
    "Subtracting 1 from both sides gives \\(2n = 40\\), hence \\(n = 20\\).\n\n"
    "The larger integer is \\(n + 1 = 21\\), so the answer is \\(\\boxed{21}\\).",
    "Call the smaller number \\(x\\); the next consecutive integer is \\(x + 1\\).\n\n"
    "Setting up the equation for the sum: \\(x + x + 1 = 41\\), that is \\(2x + 1 = 41\\).\n\n"
    "Solving the linear equation: \\(2x = 40\\) and therefore \\(x = 20\\).\n\n"
    "So the larger of the two integers is \\(x + 1 = \\boxed{21}\\).",
    "We use algebra. Write the two consecutive integers as \\(k\\) and \\(k+1\\).\n\n"
    "The condition on the sum gives the equation \\(k + (k+1) = 41\\), which simplifies to \\(2k + 1 = 41\\).\n\n"
    "Solving, \\(2k = 40\\), so \\(k = 20\\).\n\n"
    "The larger integer is \\(k + 1 = 21\\). Final answer: \\(\\boxed{21}\\).",
    "Denote the smaller integer by \\(m\\), so the larger is \\(m + 1\\).\n\n"
    "From the problem, \\(m + (m + 1) = 41\\). Collecting like terms gives the equation \\(2m + 1 = 41\\).\n\n"
    "Subtract 1 and divide by 2: \\(m = 20\\).\n\n"
    "Thus the larger integer equals \\(m + 1 = 21\\), and the answer is \\(\\boxed{21}\\).",
    "Let \\(n\\) be the smaller of the two consecutive integers; then the other is \\(n + 1\\).\n\n"
    "Adding them, \\(2n + 1\\) must equal 41, so we solve the equation \\(2n + 1 = 41\\).\n\n"
    "This gives \\(2n = 40\\), i.e. \\(n = 20\\).\n\n"
    "The larger integer is therefore \\(21\\): \\(\\boxed{21}\\).",
    "Set the smaller integer equal to the variable \\(y\\). The next integer is \\(y + 1\\).\n\n"
    "The equation for their sum is \\(y + (y + 1) = 41\\), so \\(2y + 1 = 41\\).\n\n"
    "Solving for \\(y\\): \\(2y = 40\\), \\(y = 20\\).\n\n"
    "Hence the larger integer is \\(y + 1 = 21\\), and the answer is \\(\\boxed{21}\\).",
]

ENUMERATION = [
    "Let's just try pairs of consecutive integers and look at their sums.\n\n"
    "18 + 19 = 37, which is too small.\n\n19 + 20 = 39, still too small.\n\n"
    "20 + 21 = 41, which is exactly what we want.\n\n"
    "So the pair is 20 and 21, and the larger one is \\(\\boxed{21}\\).",
    "We can check consecutive pairs one by one, starting near half of 41.\n\n"
    "Trying 19 and 20: the sum is 39, not enough.\n\nTrying 20 and 21: the sum is 41. That works.\n\n"
    "Trying 21 and 22 would give 43, too big, so the pair is unique.\n\n"
    "The larger integer is \\(\\boxed{21}\\).",
    "Guess and check: test pairs of neighbouring integers until the sum hits 41.\n\n"
    "17 + 18 = 35. 18 + 19 = 37. 19 + 20 = 39. 20 + 21 = 41.\n\n"
    "The pair 20, 21 adds up to 41, so the larger number is \\(\\boxed{21}\\).",
    "Try consecutive pairs around 20, since half of 41 is about 20.\n\n"
    "The pair 19 and 20 sums to 39, which is too low.\n\n"
    "The pair 20 and 21 sums to 41, which matches.\n\n"
    "Therefore the larger of the two integers is \\(\\boxed{21}\\).",
    "Let's list pairs of consecutive integers with their sums and stop when we reach 41.\n\n"
    "(18, 19) gives 37; (19, 20) gives 39; (20, 21) gives 41.\n\n"
    "We found it: the pair (20, 21). The larger integer is \\(\\boxed{21}\\).",
    "By trial: check pairs of adjacent whole numbers.\n\n"
    "Checking 20 + 21 first, we get 41 right away. For comparison, 19 + 20 = 39 and 21 + 22 = 43, "
    "so no other pair works.\n\n"
    "The larger number in the pair is \\(\\boxed{21}\\).",
]

AREA_PROBLEM = "A rectangle is 7 cm wide and 12 cm long. What is its area in square centimetres?"
AREA = [
    "The area of a rectangle is width times length.\n\nHere that is \\(7 \\times 12 = 84\\).\n\n"
    "So the area is \\(\\boxed{84}\\) square centimetres.",
    "Area equals length multiplied by width.\n\n\\(12 \\times 7 = 84\\).\n\n"
    "The rectangle's area is \\(\\boxed{84}\\) square centimetres.",
    "Multiply the two side lengths of the rectangle: \\(7 \\cdot 12 = 84\\).\n\n"
    "The area is \\(\\boxed{84}\\) cm².",
]
