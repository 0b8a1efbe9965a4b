package quasiroll.worker.tokenizer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class SyntheticTokenizerTest {
  private final SyntheticTokenizer tok = new SyntheticTokenizer(100);

  @Test
  void idsRoundTripThroughText() {
    int[] ids = {0, 17, 99, 5};
    assertEquals("t0 t17 t99 t5 ", tok.decode(ids));
    assertArrayEquals(ids, tok.encode(tok.decode(ids)));
    Tokenizer.StreamingDecoder d = tok.streamingDecoder();
    assertEquals("t17 ", d.push(17));
    assertEquals("", d.finish());
  }

  @Test
  void otherWordsHashToNonEosTokensDeterministically() {
    int[] a = tok.encode("What is 2+2? t100 t05");
    assertEquals(5, a.length);
    for (int id : a) {
      assertTrue(id >= 1 && id < 100, "id " + id);
    }
    assertArrayEquals(a, tok.encode("What  is 2+2?\n t100 t05"));
    assertEquals(0, tok.encode("   ").length);
  }
}
