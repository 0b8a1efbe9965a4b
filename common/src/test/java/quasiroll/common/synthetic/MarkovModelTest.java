package quasiroll.common.synthetic;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;
import quasiroll.common.error.BadInputException;

class MarkovModelTest {
  @Test
  void defaultsAndCanonicalSpec() {
    MarkovModel m = MarkovModel.parse("synthetic:markov");
    assertEquals(32, m.vocabSize());
    assertEquals(4096, m.contextLength());
    assertEquals("synthetic:markov?vocab=32&seed=0&eos=0.1&sharpness=2.0&ctx=4096", m.spec());
    assertEquals(m.spec(), MarkovModel.parse(m.spec()).spec());
  }

  @Test
  void transitionsAreDistributionsWithTheRequestedEosProbability() {
    MarkovModel m = MarkovModel.parse("synthetic:markov?vocab=50&seed=9&eos=0.2&sharpness=3");
    for (int s = 1; s <= m.vocabSize(); s++) {
      double[] p = m.transition(s);
      double sum = 0;
      for (double v : p) {
        sum += v;
      }
      assertEquals(1.0, sum, 1e-12);
      assertEquals(0.2, p[0], 1e-6);
    }
    double[] bos = m.transition(m.bosState());
    double[] s7 = m.transition(7);
    assertEquals(bos[7] * s7[0], m.sequenceProbability(m.bosState(), new int[] {7, 0}), 1e-15);
    assertArrayEquals(m.logits(5), MarkovModel.parse(m.spec()).logits(5));
    assertTrue(
        MarkovModel.parse("synthetic:markov?vocab=50&seed=10").logits(5)[3] != m.logits(5)[3]);
  }

  @Test
  void zeroEosNeverEndsAndZeroSharpnessIsUniform() {
    MarkovModel m = MarkovModel.parse("synthetic:markov?vocab=5&eos=0&sharpness=0");
    double[] p = m.transition(2);
    assertEquals(0.0, p[0]);
    for (int j = 1; j < 5; j++) {
      assertEquals(0.25, p[j], 1e-15);
    }
  }

  @Test
  void startStateFollowsThePrompt() {
    MarkovModel m = MarkovModel.parse("synthetic:markov?vocab=8");
    assertEquals(m.bosState(), m.startState(new int[] {3, 0}));
    assertEquals(3, m.startState(new int[] {0, 3}));
    assertThrows(BadInputException.class, () -> m.startState(new int[0]));
    assertThrows(BadInputException.class, () -> m.startState(new int[] {8}));
  }

  @Test
  void badSpecsNameTheParameter() {
    assertMessage("synthetic:markov?vocab=1", "vocab=1");
    assertMessage("synthetic:markov?vocab=abc", "vocab=abc");
    assertMessage("synthetic:markov?eos=1.5", "eos=1.5");
    assertMessage("synthetic:markov?sharpness=-1", "sharpness=-1");
    assertMessage("synthetic:markov?temperature=2", "'temperature'");
    assertMessage("synthetic:markov?seed", "'seed' has no value");
    assertMessage("synthetic:markov?ctx=1", "ctx=1");
    assertMessage("synthetic:ngram", "synthetic:ngram");
  }

  private static void assertMessage(String spec, String fragment) {
    BadInputException e = assertThrows(BadInputException.class, () -> MarkovModel.parse(spec));
    assertTrue(e.getMessage().contains(fragment), e.getMessage());
  }
}
