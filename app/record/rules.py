"""The consensus rule: how a tally becomes a consensus level. The one place it lives.

Levels, in order of strength:
- `consensus`: at least one answer, and every answer is endorse or agree.
- `consensus_with_reservations`: no disagree and no block; some agree with reservations or
  stand aside, but those standing aside are no more than half of the answers.
- `no_consensus`: anything else: a block, any disagreement, no answers, or more than half
  standing aside.
- `majority_decision`: never reached by the rule alone. When there is no consensus the
  facilitator may record a decision by majority, allowed only when the supporters (endorse,
  agree, agree with reservations) are more than half of the answers and nobody blocks.
"""

from collections.abc import Mapping

from app.record.models import Answer, ConsensusLevel

SUPPORT = (Answer.endorse, Answer.agree, Answer.agree_with_reservations)


def consensus_level(counts: Mapping[str, int]) -> ConsensusLevel:
    """The consensus level a tally reaches by the rule."""
    total = sum(counts.get(a, 0) for a in Answer)
    if total == 0:
        return ConsensusLevel.no_consensus
    if counts.get(Answer.block, 0) or counts.get(Answer.disagree, 0):
        return ConsensusLevel.no_consensus
    if 2 * counts.get(Answer.stand_aside, 0) > total:
        return ConsensusLevel.no_consensus
    if counts.get(Answer.agree_with_reservations, 0) or counts.get(Answer.stand_aside, 0):
        return ConsensusLevel.consensus_with_reservations
    return ConsensusLevel.consensus


def majority_allowed(counts: Mapping[str, int]) -> bool:
    """Whether a decision by majority may be recorded for this tally."""
    total = sum(counts.get(a, 0) for a in Answer)
    support = sum(counts.get(a, 0) for a in SUPPORT)
    return total > 0 and counts.get(Answer.block, 0) == 0 and 2 * support > total
