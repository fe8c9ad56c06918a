"""pydantic models of the next-week-commits model's input row and output (the serving contract).

Kept free of heavy imports so runbooks and the invariance checks can validate rows cheaply.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

Bucket = Literal["low", "medium", "high"]


class FeatureRow(BaseModel):
    """One input row: a repository's recent weekly history (the name is never a feature)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    lag_1: float = Field(ge=0, description="commits in the last week seen")
    lag_2: float = Field(ge=0)
    lag_3: float = Field(ge=0)
    lag_4: float = Field(ge=0)
    mean_4: float = Field(ge=0, description="mean weekly commits over the last 4 weeks")
    std_4: float = Field(ge=0)
    mean_12: float = Field(ge=0, description="mean weekly commits over the last 12 weeks")
    ratio_4_12: float = Field(ge=0, description="mean_4 / (mean_12 + 1)")


class Prediction(BaseModel):
    """The model's answer for one row: the activity bucket of the next week."""

    model_config = ConfigDict(frozen=True)

    bucket: Bucket
