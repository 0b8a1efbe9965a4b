package quasiroll.sweep;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.awt.image.BufferedImage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import javax.imageio.ImageIO;
import javax.xml.parsers.DocumentBuilderFactory;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import quasiroll.common.stats.SamplesSaved;

class SweepReportTest {
  @Test
  void smallInProcessSweepWritesEveryOutput(@TempDir Path tmp) throws Exception {
    SweepSpec spec = SweepSpecParser.parseString(SweepTestSpecs.SMALL);
    Path out = tmp.resolve("out");
    Sweep.Outcome o;
    try (InProcessRunner r = new InProcessRunner(m -> new ToyShardRunner(0.04), 2)) {
      o = Sweep.run(spec, out, r, TaskCatalog.builtIn(), SweepProgress.NONE);
    }
    if (System.getenv("QUASIROLL_KEEP_TEST_OUTPUT") != null) {
      copyTree(out, Path.of(System.getenv("QUASIROLL_KEEP_TEST_OUTPUT")));
    }

    List<String> csv = Files.readAllLines(out.resolve("results.csv"));
    assertEquals(ResultsCsv.HEADER, csv.get(0));
    assertEquals(1 + 3 * 5, csv.size()); // 3 samplers x 5 k
    assertTrue(csv.get(1).startsWith("toy,hit0,iid,1,1,12,3,"), csv.get(1));
    List<String> saved = Files.readAllLines(out.resolve("samples_saved.csv"));
    assertEquals(1 + 2 * 4, saved.size()); // lattice and sobol at k = 2, 4, 8, 16

    for (CellResult c : o.results().cells()) {
      assertTrue(
          c.passAtK().lower() <= c.passAtK().estimate()
              && c.passAtK().estimate() <= c.passAtK().upper());
      // Every sampler's single samples are exact draws, so pass@1 agrees with the pooled rate
      // that the union bound at k = 1 is made of, up to sampling noise.
      if (c.cell().k() == 1) {
        assertEquals(c.unionBound(), c.passRate(), 0.05, c.toString());
      }
    }
    // The toy lattice's success set is one interval of code space ([0, p)), so its pass@k is
    // min(1, k p) exactly in expectation; i.i.d. is 1-(1-p)^k. At p ~ 0.04 and k = 16 the
    // lattice saves about a third of the samples; we only check the sign and the interval.
    SamplesSaved.Result lattice16 =
        o.results().samplesSaved().stream()
            .filter(r -> r.sampler().equals("lattice") && r.result().k() == 16)
            .findFirst()
            .orElseThrow()
            .result();
    assertTrue(lattice16.savedFraction().estimate() > 0.1, lattice16.toString());

    String report = Files.readString(o.report());
    assertTrue(report.contains("## pass@k") && report.contains("## Samples saved vs iid"), report);
    assertTrue(report.contains("| lattice |") && report.contains("union bound"), report);
    try (Stream<Path> plots = Files.list(out.resolve("plots"))) {
      List<Path> files = plots.toList();
      assertEquals(6, files.size(), files.toString()); // 3 plots x (png, svg)
      for (Path f : files) {
        if (f.toString().endsWith(".png")) {
          BufferedImage img = ImageIO.read(f.toFile());
          assertNotNull(img, f.toString());
          assertTrue(
              report.contains("plots/" + f.getFileName()),
              "report does not show " + f.getFileName());
        } else {
          assertNotNull(
              DocumentBuilderFactory.newInstance()
                  .newDocumentBuilder()
                  .parse(f.toFile())
                  .getDocumentElement());
        }
      }
    }
  }

  private static void copyTree(Path from, Path to) throws Exception {
    try (Stream<Path> s = Files.walk(from)) {
      for (Path p : s.toList()) {
        Path t = to.resolve(from.relativize(p).toString());
        if (Files.isDirectory(p)) {
          Files.createDirectories(t);
        } else {
          Files.copy(p, t, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        }
      }
    }
  }
}
