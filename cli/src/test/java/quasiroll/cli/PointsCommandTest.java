package quasiroll.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class PointsCommandTest {
  private record Run(int code, String out, String err) {}

  private static Run run(String... args) {
    PrintStream oldOut = System.out;
    PrintStream oldErr = System.err;
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    try {
      System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
      System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
      int code =
          Main.commandLine()
              .setOut(new java.io.PrintWriter(System.out, true))
              .setErr(new java.io.PrintWriter(System.err, true))
              .execute(args);
      return new Run(
          code, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
    } finally {
      System.setOut(oldOut);
      System.setErr(oldErr);
    }
  }

  @Test
  void unscrambledSobolMatchesScipy() {
    // scipy 1.10.1: qmc.Sobol(d=3, scramble=False).random(4)
    Run r = run("points", "--sampler", "sobol", "--n", "4", "--dims", "3", "--randomize", "none");
    assertEquals(0, r.code(), r.err());
    assertEquals(
        String.join(
            "\n",
            "replicate,index,x0,x1,x2",
            "0,0,0.0,0.0,0.0",
            "0,1,0.5,0.5,0.5",
            "0,2,0.75,0.25,0.25",
            "0,3,0.25,0.75,0.75",
            ""),
        r.out().replace("\r\n", "\n"));
  }

  @Test
  void latticeUnrandomizedIsIOverN() {
    Run r = run("points", "--sampler", "lattice", "--n", "3", "--randomize", "none");
    assertEquals(0, r.code(), r.err());
    assertEquals(
        "replicate,index,x0\n0,0,0.0\n0,1,0.3333333333333333\n0,2,0.6666666666666666\n",
        r.out().replace("\r\n", "\n"));
  }

  @Test
  void replicatesAreDeterministicAndDistinct() {
    String[] args = {
      "points", "--sampler", "rank1", "--n", "8", "--dims", "4", "--seed", "7", "--replicates", "2"
    };
    Run a = run(args);
    Run b = run(args);
    assertEquals(0, a.code(), a.err());
    assertEquals(a.out(), b.out());
    String[] lines = a.out().split("\n");
    assertEquals(1 + 16, lines.length);
    assertTrue(lines[1].startsWith("0,0,") && lines[9].startsWith("1,0,"));
    assertTrue(!lines[1].substring(4).equals(lines[9].substring(4)));
  }

  @Test
  void everySamplerPrints() {
    for (String s : new String[] {"sobol", "rank1", "lhs", "iid", "antithetic"}) {
      Run r = run("points", "--sampler", s, "--n", "4", "--dims", "2");
      assertEquals(0, r.code(), s + ": " + r.err());
      assertEquals(5, r.out().split("\n").length, s);
    }
    for (String s : new String[] {"lattice", "stratified"}) {
      Run r = run("points", "--sampler", s, "--n", "4");
      assertEquals(0, r.code(), s + ": " + r.err());
    }
    assertEquals(0, run("points", "--sampler", "sobol", "--n", "4", "--scramble", "owen").code());
  }

  @Test
  void badFlagsExitTwoNamingThem() {
    Run dims = run("points", "--sampler", "lattice", "--n", "4", "--dims", "2");
    assertEquals(2, dims.code());
    assertTrue(dims.err().contains("--dims 2"), dims.err());
    Run sampler = run("points", "--sampler", "bogus", "--n", "4");
    assertEquals(2, sampler.code());
    assertTrue(sampler.err().contains("bogus"), sampler.err());
    Run scramble = run("points", "--sampler", "sobol", "--n", "4", "--scramble", "none");
    assertEquals(2, scramble.code());
    assertTrue(scramble.err().contains("scramble=none"), scramble.err());
    Run none = run("points", "--sampler", "lhs", "--n", "4", "--randomize", "none");
    assertEquals(2, none.code());
    assertTrue(none.err().contains("lhs"), none.err());
    assertEquals(2, run("points", "--sampler", "sobol").code()); // --n missing
  }
}
