package quasiroll.coordinator.store;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import quasiroll.v1.JobEvent;
import quasiroll.v1.JobSpec;
import quasiroll.v1.JobState;
import quasiroll.v1.JobStatus;
import quasiroll.v1.SampleResult;

/**
 * The job store keeps events in chunk rows (one per job per commit): every offset reads back
 * exactly the bytes that were staged, across chunk boundaries, after a reopen, and from a store
 * written by the one-row-per-event schema (migrated on open).
 */
class JobStoreChunksTest {
  /** Events of varied sizes: 1-byte, 2-byte and 3-byte varint lengths all occur. */
  private static JobEvent event(String job, long offset, Random r) {
    int len =
        switch (r.nextInt(10)) {
          case 0 -> 200 + r.nextInt(400);
          case 1 -> r.nextInt(50) == 0 ? 20_000 + r.nextInt(10_000) : 130 + r.nextInt(40);
          default -> r.nextInt(60);
        };
    StringBuilder text = new StringBuilder();
    for (int i = 0; i < len; i++) {
      text.append((char) ('a' + r.nextInt(26)));
    }
    return JobEvent.newBuilder()
        .setOffset(offset)
        .setSample(
            SampleResult.newBuilder().setJobId(job).setIndex((int) offset).setText(text.toString()))
        .build();
  }

  private static JobEvent finalStatus(String job, long offset) {
    return JobEvent.newBuilder()
        .setOffset(offset)
        .setStatus(JobStatus.newBuilder().setJobId(job).setState(JobState.JOB_STATE_SUCCEEDED))
        .build();
  }

  /**
   * Writes two interleaved jobs in commits of these sizes (events per job per commit), a commit of
   * more than {@link JobStore#MAX_CHUNK_EVENTS} included; returns each job's encodings by offset.
   */
  private static List<List<byte[]>> fill(JobStore store, int[] commits) {
    Random r = new Random(13);
    List<List<byte[]>> expected = List.of(new ArrayList<>(), new ArrayList<>());
    String[] jobs = {"a", "b"};
    for (String j : jobs) {
      store.stageJob(j, "alice", JobSpec.getDefaultInstance(), null, 0);
    }
    store.commit();
    for (int c = 0; c < commits.length; c++) {
      List<JobStore.Batch> batches = new ArrayList<>();
      for (int i = 0; i < commits[c]; i++) {
        for (int j = 0; j < 2; j++) {
          if (j == 1 && i % 3 == 2) {
            continue; // job b gets fewer events: its chunks end elsewhere
          }
          long offset = expected.get(j).size();
          JobEvent e =
              c == commits.length - 1 && i == commits[c] - 1
                  ? finalStatus(jobs[j], offset)
                  : event(jobs[j], offset, r);
          EncodedEvent enc = EncodedEvent.of(e);
          store.stageEvent(jobs[j], enc);
          expected.get(j).add(e.toByteArray());
        }
        if (i % 40 == 39) {
          batches.add(store.cut()); // several cuts in one transaction (the writer's group commit)
        }
      }
      batches.add(store.cut());
      store.write(batches);
    }
    return expected;
  }

  private static void assertReadsBack(JobStore store, String job, List<byte[]> expected) {
    int n = expected.size();
    assertEquals(n, store.eventCount(job));
    for (int from = 0; from <= n; from++) {
      // every offset with short reads; reads to the end from every 50th offset and the last 3
      boolean toEnd = from % 50 == 0 || from >= n - 3;
      int[] limits =
          toEnd ? new int[] {1, 7, 300, n - from, Integer.MAX_VALUE} : new int[] {1, 7, 300};
      for (int limit : limits) {
        List<EncodedEvent> got = store.encodedEvents(job, from, limit);
        int want = (int) Math.min((long) limit, n - from);
        assertEquals(want, got.size(), "job " + job + " from " + from + " limit " + limit);
        for (int i = 0; i < got.size(); i++) {
          assertArrayEquals(
              expected.get(from + i),
              got.get(i).bytes(),
              "job " + job + " offset " + (from + i) + " read from " + from);
        }
      }
    }
    List<JobEvent> all = store.events(job);
    assertEquals(n, all.size());
    for (int i = 0; i < n; i++) {
      assertEquals(i, all.get(i).getOffset());
      assertArrayEquals(expected.get(i), all.get(i).toByteArray());
    }
    assertEquals(0, store.encodedEvents(job, n + 5, 10).size());
    assertEquals(0, store.encodedEvents(job, 0, 0).size());
  }

  @Test
  void everyOffsetReadsBackTheStagedBytesAcrossChunksAndAfterReopening(@TempDir Path dir) {
    Path file = dir.resolve("s.db");
    int[] commits = {1, 2, 1, 37, 1100, 5, 64, 1};
    List<List<byte[]>> expected;
    try (JobStore store = JobStore.open(file)) {
      expected = fill(store, commits);
      assertReadsBack(store, "a", expected.get(0));
      assertReadsBack(store, "b", expected.get(1));
      assertEquals(0, store.eventCount("nobody"));
      assertTrue(store.events("nobody").isEmpty());
      assertTrue(store.job("a").finished());
    }
    // chunk rows: one per job per commit, and the 1100-event commit split at MAX_CHUNK_EVENTS
    // (or at MAX_CHUNK_BYTES); never one per event
    long rows = chunkRows(file, "a");
    assertTrue(rows >= commits.length + 1 && rows <= commits.length + 3, "chunk rows " + rows);
    try (JobStore store = JobStore.open(file)) {
      assertReadsBack(store, "a", expected.get(0));
      assertReadsBack(store, "b", expected.get(1));
      assertTrue(store.job("a").finished());
      assertEquals(1, store.jobs(false).stream().filter(j -> j.id().equals("b")).count());
    }
  }

  @Test
  void aFailedTransactionStoresNoChunk(@TempDir Path dir) {
    try (JobStore store = JobStore.open(dir.resolve("s.db"))) {
      store.stageJob("a", "alice", JobSpec.getDefaultInstance(), null, 0);
      store.stageEvent("a", event("a", 0, new Random(1)));
      store.commit();
      // the same offset again: the chunk's primary key collides, the whole write rolls back
      store.stageEvent("a", event("a", 1, new Random(2)));
      store.stageEvent("a", event("a", 2, new Random(3)));
      store.commit();
      store.stageEvent("a", event("a", 1, new Random(4)));
      store.stageJob("c", "carol", JobSpec.getDefaultInstance(), null, 0);
      JobStore.StoreException e = assertThrows(JobStore.StoreException.class, store::commit);
      assertTrue(e.getMessage().contains("job a from offset 1"), e.getMessage());
      assertEquals(3, store.eventCount("a"));
      assertEquals(null, store.job("c"));
    }
  }

  private static long chunkRows(Path file, String job) {
    try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + file);
        PreparedStatement q =
            c.prepareStatement("SELECT COUNT(*) FROM event_chunks WHERE job_id = ?")) {
      q.setString(1, job);
      try (ResultSet rs = q.executeQuery()) {
        rs.next();
        return rs.getLong(1);
      }
    } catch (java.sql.SQLException e) {
      throw new AssertionError(e);
    }
  }

  @Test
  void aStoreWithOneRowPerEventIsMigratedExactly(@TempDir Path dir) throws Exception {
    Path file = dir.resolve("old.db");
    Random r = new Random(7);
    List<byte[]> a = new ArrayList<>();
    List<byte[]> b = new ArrayList<>();
    // the schema version 1 wrote (no user_version), exactly as it was
    try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + file);
        Statement s = c.createStatement()) {
      s.execute("PRAGMA journal_mode = WAL");
      s.execute(
          "CREATE TABLE jobs (id TEXT PRIMARY KEY, owner TEXT NOT NULL, spec BLOB NOT"
              + " NULL, sink_path TEXT, sink_offset INTEGER NOT NULL DEFAULT 0, submitted_ms"
              + " INTEGER NOT NULL, finished INTEGER NOT NULL DEFAULT 0)");
      s.execute(
          "CREATE TABLE events (job_id TEXT NOT NULL, event_offset INTEGER NOT NULL,"
              + " event BLOB NOT NULL, PRIMARY KEY (job_id, event_offset)) WITHOUT ROWID");
      s.execute(
          "CREATE TABLE groups (job_id TEXT NOT NULL, prompt_index INTEGER NOT NULL,"
              + " policy_version INTEGER NOT NULL, epoch INTEGER NOT NULL, size INTEGER NOT NULL,"
              + " PRIMARY KEY (job_id, prompt_index)) WITHOUT ROWID");
      s.execute(
          "INSERT INTO jobs (id, owner, spec, sink_path, sink_offset, submitted_ms, finished)"
              + " VALUES ('a', 'alice', x'', '/tmp/out.jsonl', 1234, 5, 0), ('b', 'bob', x'',"
              + " NULL, 0, 6, 1)");
      s.execute("INSERT INTO groups VALUES ('a', 3, 9, 1, 16)");
      try (PreparedStatement ins = c.prepareStatement("INSERT INTO events VALUES (?, ?, ?)")) {
        for (int i = 0; i < 2500; i++) {
          byte[] e = event("a", i, r).toByteArray();
          a.add(e);
          ins.setString(1, "a");
          ins.setLong(2, i);
          ins.setBytes(3, e);
          ins.executeUpdate();
        }
        for (int i = 0; i < 3; i++) {
          byte[] e = (i == 2 ? finalStatus("b", i) : event("b", i, r)).toByteArray();
          b.add(e);
          ins.setString(1, "b");
          ins.setLong(2, i);
          ins.setBytes(3, e);
          ins.executeUpdate();
        }
      }
    }
    for (int open = 0; open < 2; open++) { // migrated once, then opened as it is
      try (JobStore store = JobStore.open(file)) {
        assertReadsBack(store, "a", a);
        assertReadsBack(store, "b", b);
        JobStore.StoredJob ja = store.job("a");
        assertEquals(1234, ja.sinkOffset());
        assertEquals("/tmp/out.jsonl", ja.sinkPath());
        assertFalse(ja.finished());
        assertTrue(store.job("b").finished());
        assertEquals(new JobStore.GroupState(3, 9, 1, 16), store.groups("a").get(3));
        // and it takes new events after the migrated ones
        byte[] next = event("a", 2500 + open, r).toByteArray();
        store.stageEvent("a", EncodedEvent.ofBytes(next));
        store.commit();
        a.add(next);
        assertReadsBack(store, "a", a);
      }
      try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + file);
          Statement s = c.createStatement();
          ResultSet rs = s.executeQuery("PRAGMA user_version")) {
        rs.next();
        assertEquals(JobStore.SCHEMA_VERSION, rs.getInt(1));
        try (ResultSet t =
            s.executeQuery(
                "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'events'")) {
          assertFalse(t.next(), "the per-event table is dropped");
        }
      }
    }
  }

  @Test
  void aStoreOfANewerSchemaIsRefusedNamingTheFile(@TempDir Path dir) throws Exception {
    Path file = dir.resolve("new.db");
    try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + file);
        Statement s = c.createStatement()) {
      s.execute("PRAGMA user_version = " + (JobStore.SCHEMA_VERSION + 1));
    }
    JobStore.StoreException e =
        assertThrows(JobStore.StoreException.class, () -> JobStore.open(file));
    assertTrue(e.getMessage().contains(file.toString()), e.getMessage());
    assertTrue(
        e.getMessage().contains("schema version " + (JobStore.SCHEMA_VERSION + 1)), e.getMessage());
  }
}
