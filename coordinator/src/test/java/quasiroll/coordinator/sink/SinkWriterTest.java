package quasiroll.coordinator.sink;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import quasiroll.v1.SampleResult;

class SinkWriterTest {
  private static List<SampleResult> group(String prompt, int k) {
    List<SampleResult> g = new ArrayList<>();
    for (int i = 0; i < k; i++) {
      g.add(
          SampleResult.newBuilder()
              .setPromptId(prompt)
              .setIndex(i)
              .setText(prompt + "/" + i)
              .addTokenIds(i)
              .build());
    }
    return g;
  }

  private record Seen(int sink, SinkWriter.Written w, String thread) {}

  @Test
  void groupsAreWrittenOffTheCallersThreadInOrderPerSink(@TempDir Path dir) throws Exception {
    int sinks = 4;
    int groups = 40;
    ExecutorService pool = Executors.newFixedThreadPool(2);
    ConcurrentLinkedQueue<Seen> seen = new ConcurrentLinkedQueue<>();
    CountDownLatch all = new CountDownLatch(sinks * groups);
    List<SinkWriter> writers = new ArrayList<>();
    for (int s = 0; s < sinks; s++) {
      int sink = s;
      writers.add(
          new SinkWriter(
              JsonlSink.create(dir.resolve(s + ".jsonl")),
              pool,
              w -> {
                seen.add(new Seen(sink, w, Thread.currentThread().getName()));
                all.countDown();
              }));
    }
    String caller = Thread.currentThread().getName();
    for (int g = 0; g < groups; g++) {
      for (SinkWriter w : writers) {
        w.write(g, group("p" + g, 3));
      }
    }
    assertTrue(all.await(30, TimeUnit.SECONDS));
    pool.shutdown();
    for (int s = 0; s < sinks; s++) {
      int sink = s;
      List<SinkWriter.Written> mine =
          seen.stream().filter(x -> x.sink() == sink).map(Seen::w).toList();
      assertEquals(groups, mine.size());
      long last = 0;
      for (int g = 0; g < groups; g++) {
        assertEquals(g, mine.get(g).prompt(), "outcomes in hand-over order");
        assertNull(mine.get(g).error());
        assertTrue(mine.get(g).committedBytes() > last);
        last = mine.get(g).committedBytes();
      }
      Path file = dir.resolve(s + ".jsonl");
      assertEquals(last, Files.size(file));
      List<String> lines = Files.readAllLines(file);
      assertEquals(3 * groups, lines.size());
      for (int i = 0; i < lines.size(); i++) {
        assertTrue(
            lines.get(i).contains("\"text\":\"p" + (i / 3) + "/" + (i % 3) + "\""), lines.get(i));
      }
      assertEquals(0, writers.get(s).pending());
    }
    seen.forEach(x -> assertNotEquals(caller, x.thread()));
  }

  /** Runs tasks only when told: lets a test see what is queued. */
  private static final class ManualExecutor implements java.util.concurrent.Executor {
    final ArrayDeque<Runnable> tasks = new ArrayDeque<>();

    @Override
    public void execute(Runnable r) {
      tasks.add(r);
    }

    void runAll() {
      while (!tasks.isEmpty()) {
        tasks.poll().run();
      }
    }
  }

  @Test
  void pendingCountsGroupsUntilTheyAreReported(@TempDir Path dir) {
    ManualExecutor ex = new ManualExecutor();
    List<SinkWriter.Written> out = new ArrayList<>();
    SinkWriter w = new SinkWriter(JsonlSink.create(dir.resolve("s.jsonl")), ex, out::add);
    w.write(0, group("a", 2));
    w.write(1, group("b", 2));
    w.write(2, group("c", 2));
    assertEquals(3, w.pending());
    assertEquals(1, ex.tasks.size(), "one drain per sink at a time");
    assertTrue(out.isEmpty());
    ex.runAll();
    assertEquals(0, w.pending());
    assertEquals(List.of(0, 1, 2), out.stream().map(SinkWriter.Written::prompt).toList());
  }

  @Test
  void closeDropsQueuedGroupsAndClosesTheFileWithoutBlocking(@TempDir Path dir) throws Exception {
    ManualExecutor ex = new ManualExecutor();
    List<SinkWriter.Written> out = new ArrayList<>();
    Path file = dir.resolve("s.jsonl");
    SinkWriter w = new SinkWriter(JsonlSink.create(file), ex, out::add);
    w.write(0, group("a", 2));
    w.write(1, group("b", 2));
    w.close();
    assertEquals(0, w.pending());
    w.write(2, group("c", 2)); // ignored after close
    ex.runAll();
    assertTrue(out.isEmpty());
    assertEquals(0, Files.size(file));
  }

  /**
   * A real "No space left on device" from the kernel, without root: /dev/full accepts the open and
   * fails every write with ENOSPC. The failure is reported once, naming the file and the cause;
   * groups queued behind it are dropped.
   */
  @Test
  void aFullDeviceIsReportedOnceWithTheKernelsReason(@TempDir Path dir) throws Exception {
    Path full = Path.of("/dev/full");
    assumeTrue(Files.isWritable(full), "needs /dev/full (Linux)");
    Path link = Files.createSymbolicLink(dir.resolve("full.jsonl"), full);
    ManualExecutor ex = new ManualExecutor();
    List<SinkWriter.Written> out = new ArrayList<>();
    SinkWriter w =
        new SinkWriter(
            JsonlSink.onChannel(
                link, FileChannel.open(link, java.nio.file.StandardOpenOption.WRITE)),
            ex,
            out::add);
    w.write(0, group("a", 2));
    w.write(1, group("b", 2));
    ex.runAll();
    assertEquals(1, out.size(), out.toString());
    SinkWriter.Written failed = out.get(0);
    assertEquals(0, failed.prompt());
    assertTrue(failed.failed());
    assertTrue(failed.error().contains("No space left on device"), failed.error());
    assertTrue(failed.error().contains(link.toString()), failed.error());
    assertEquals(0, failed.committedBytes());
    assertEquals(0, w.pending());
    w.write(2, group("c", 2)); // a broken sink takes nothing more
    ex.runAll();
    assertEquals(1, out.size());
    w.close();
  }
}
