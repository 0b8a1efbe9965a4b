package quasiroll.coordinator.job;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import quasiroll.v1.GroupSummary;
import quasiroll.v1.SampleResult;

class GroupStatisticsTest {
  private static List<SampleResult> group(double... rewards) {
    List<SampleResult> out = new ArrayList<>();
    for (int i = 0; i < rewards.length; i++) {
      out.add(
          SampleResult.newBuilder()
              .setIndex(i)
              .setText(rewards[i] > 0 ? "yes" : "no")
              .setReward(rewards[i])
              .build());
    }
    return out;
  }

  @Test
  void grpoAndRlooAdvantagesByHand() {
    // rewards 1,0,0,1: mean 0.5, population std 0.5.
    GroupSummary g = GroupStatistics.summarize("j", "p", group(1, 0, 0, 1));
    assertEquals(List.of(1.0, 0.0, 0.0, 1.0), g.getRewardsList());
    double a = 0.5 / (0.5 + 1e-6);
    assertEquals(a, g.getGrpoAdvantages(0), 1e-12);
    assertEquals(-a, g.getGrpoAdvantages(1), 1e-12);
    // RLOO: 1 - mean(0,0,1) = 2/3; 0 - mean(1,0,1) = -2/3.
    assertEquals(2.0 / 3, g.getRlooAdvantages(0), 1e-12);
    assertEquals(-2.0 / 3, g.getRlooAdvantages(1), 1e-12);
    assertTrue(g.getPass());
    assertFalse(g.getZeroVariance());
    assertEquals(2, g.getDistinctAnswers());
  }

  @Test
  void allEqualRewardsAreZeroVarianceWithZeroAdvantages() {
    GroupSummary g = GroupStatistics.summarize("j", "p", group(0, 0, 0));
    assertTrue(g.getZeroVariance());
    assertFalse(g.getPass());
    assertEquals(List.of(0.0, 0.0, 0.0), g.getGrpoAdvantagesList());
  }

  @Test
  void withoutAVerifierThereAreNoRewards() {
    List<SampleResult> s =
        List.of(
            SampleResult.newBuilder().setText("a").build(),
            SampleResult.newBuilder().setText("a").build());
    GroupSummary g = GroupStatistics.summarize("j", "p", s);
    assertEquals(0, g.getRewardsCount());
    assertEquals(0, g.getGrpoAdvantagesCount());
    assertFalse(g.getZeroVariance());
    assertEquals(1, g.getDistinctAnswers());
  }
}
