package quasiroll.coordinator.store;

import com.google.protobuf.InvalidProtocolBufferException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import quasiroll.v1.JobEvent;
import quasiroll.v1.JobSpec;

/**
 * The coordinator's durable job store: one SQLite database file (WAL journal, {@code synchronous =
 * FULL}, so a committed transaction survives a process kill and a power cut).
 *
 * <p>What is stored, and why it is enough to resume exactly: the job's spec with its prompts
 * resolved inline, its owner, and its whole event log (every published sample with its content hash
 * and reward, every group summary, every status). A job's state is a pure function of its event
 * log, so a restarted coordinator rebuilds each unfinished job from it and re-queues only the
 * sample indices that have no stored event; by the determinism contract the recomputed samples are
 * identical to the ones that were lost. The JSONL sink's committed length is stored with the events
 * of the same batch, so a resumed sink is cut back to exactly the groups the log says were written.
 *
 * <p>Writes are staged and committed in batches ({@link #commit}); the job manager commits before
 * it acknowledges anything (a submit, a shard) and before events become visible to client streams,
 * so nothing a client has seen is ever lost.
 *
 * <p>Thread-safe (one connection, every method synchronized).
 */
public final class JobStore implements AutoCloseable {
  /** A job as stored: enough to rebuild it. */
  public record StoredJob(
      String id,
      String owner,
      JobSpec spec,
      String sinkPath,
      long sinkOffset,
      long submittedMs,
      boolean finished) {}

  /** Final job states: a job with such a status event is finished (not resumed). */
  private static final java.util.Set<quasiroll.v1.JobState> FINAL =
      java.util.EnumSet.of(
          quasiroll.v1.JobState.JOB_STATE_SUCCEEDED,
          quasiroll.v1.JobState.JOB_STATE_FAILED,
          quasiroll.v1.JobState.JOB_STATE_CANCELLED);

  private final Path file;
  private final Connection db;
  private final PreparedStatement insertJob;
  private final PreparedStatement insertEvent;
  private final PreparedStatement updateSink;
  private final PreparedStatement markFinished;
  private final PreparedStatement upsertGroup;
  private int staged;

  /**
   * What a job's group of prompt {@code promptIndex} runs on, beyond its events: the policy version
   * it is pinned to, its regeneration epoch and its size (k, or more once grown). Replay after a
   * restart needs it to tell a regenerated group's old samples from its new ones and to know how
   * far a group grew.
   */
  public record GroupState(int promptIndex, long version, int epoch, int size) {}

  private JobStore(Path file, Connection db) throws SQLException {
    this.file = file;
    this.db = db;
    try (Statement s = db.createStatement()) {
      s.execute("PRAGMA journal_mode = WAL");
      s.execute("PRAGMA synchronous = FULL");
      s.execute(
          "CREATE TABLE IF NOT EXISTS jobs (id TEXT PRIMARY KEY, owner TEXT NOT NULL, spec BLOB NOT"
              + " NULL, sink_path TEXT, sink_offset INTEGER NOT NULL DEFAULT 0, submitted_ms"
              + " INTEGER NOT NULL, finished INTEGER NOT NULL DEFAULT 0)");
      s.execute(
          "CREATE TABLE IF NOT EXISTS events (job_id TEXT NOT NULL, event_offset INTEGER NOT NULL,"
              + " event BLOB NOT NULL, PRIMARY KEY (job_id, event_offset)) WITHOUT ROWID");
      s.execute(
          "CREATE TABLE IF NOT EXISTS groups (job_id TEXT NOT NULL, prompt_index INTEGER NOT NULL,"
              + " policy_version INTEGER NOT NULL, epoch INTEGER NOT NULL, size INTEGER NOT NULL,"
              + " PRIMARY KEY (job_id, prompt_index)) WITHOUT ROWID");
    }
    db.setAutoCommit(false);
    insertJob =
        db.prepareStatement(
            "INSERT INTO jobs (id, owner, spec, sink_path, submitted_ms) VALUES (?, ?, ?, ?, ?)");
    insertEvent =
        db.prepareStatement("INSERT INTO events (job_id, event_offset, event) VALUES (?, ?, ?)");
    updateSink = db.prepareStatement("UPDATE jobs SET sink_offset = ? WHERE id = ?");
    markFinished = db.prepareStatement("UPDATE jobs SET finished = 1 WHERE id = ?");
    upsertGroup =
        db.prepareStatement(
            "INSERT OR REPLACE INTO groups (job_id, prompt_index, policy_version, epoch, size)"
                + " VALUES (?, ?, ?, ?, ?)");
  }

  /** Opens (creating if needed) the store at {@code file}. */
  public static JobStore open(Path file) {
    try {
      Path parent = file.toAbsolutePath().getParent();
      if (parent != null) {
        Files.createDirectories(parent);
      }
      return new JobStore(
          file, DriverManager.getConnection("jdbc:sqlite:" + file.toAbsolutePath()));
    } catch (SQLException | java.io.IOException e) {
      throw new StoreException("cannot open the job store " + file + ": " + e.getMessage(), e);
    }
  }

  /** The store failed (disk full, I/O error, corrupt file); the message names the file. */
  public static final class StoreException extends RuntimeException {
    public StoreException(String message, Throwable cause) {
      super(message, cause);
    }
  }

  public Path file() {
    return file;
  }

  public synchronized void stageJob(
      String id, String owner, JobSpec spec, String sinkPath, long submittedMs) {
    try {
      insertJob.setString(1, id);
      insertJob.setString(2, owner);
      insertJob.setBytes(3, spec.toByteArray());
      insertJob.setString(4, sinkPath);
      insertJob.setLong(5, submittedMs);
      insertJob.executeUpdate();
      staged++;
    } catch (SQLException e) {
      throw fail("stage job " + id, e);
    }
  }

  public synchronized void stageEvent(String jobId, JobEvent event) {
    try {
      insertEvent.setString(1, jobId);
      insertEvent.setLong(2, event.getOffset());
      insertEvent.setBytes(3, event.toByteArray());
      insertEvent.executeUpdate();
      staged++;
      if (event.hasStatus() && FINAL.contains(event.getStatus().getState())) {
        markFinished.setString(1, jobId);
        markFinished.executeUpdate();
      }
    } catch (SQLException e) {
      throw fail("stage an event of job " + jobId, e);
    }
  }

  public synchronized void stageSinkOffset(String jobId, long offset) {
    try {
      updateSink.setLong(1, offset);
      updateSink.setString(2, jobId);
      updateSink.executeUpdate();
      staged++;
    } catch (SQLException e) {
      throw fail("stage the sink offset of job " + jobId, e);
    }
  }

  /** Stages a group's pinned version, epoch and size (replacing what was stored for it). */
  public synchronized void stageGroup(String jobId, GroupState g) {
    try {
      upsertGroup.setString(1, jobId);
      upsertGroup.setInt(2, g.promptIndex());
      upsertGroup.setLong(3, g.version());
      upsertGroup.setInt(4, g.epoch());
      upsertGroup.setInt(5, g.size());
      upsertGroup.executeUpdate();
      staged++;
    } catch (SQLException e) {
      throw fail("stage a group of job " + jobId, e);
    }
  }

  /** The committed group states of a job, by prompt index. */
  public synchronized java.util.Map<Integer, GroupState> groups(String jobId) {
    java.util.Map<Integer, GroupState> out = new java.util.HashMap<>();
    try (PreparedStatement q =
        db.prepareStatement(
            "SELECT prompt_index, policy_version, epoch, size FROM groups WHERE job_id = ?")) {
      q.setString(1, jobId);
      try (ResultSet rs = q.executeQuery()) {
        while (rs.next()) {
          GroupState g = new GroupState(rs.getInt(1), rs.getLong(2), rs.getInt(3), rs.getInt(4));
          out.put(g.promptIndex(), g);
        }
      }
    } catch (SQLException e) {
      throw fail("read the groups of job " + jobId, e);
    }
    return out;
  }

  /** Whether anything is staged and not yet committed. */
  public synchronized boolean dirty() {
    return staged > 0;
  }

  /** Commits everything staged (one fsync'd transaction). */
  public synchronized void commit() {
    if (staged == 0) {
      return;
    }
    try {
      db.commit();
      staged = 0;
    } catch (SQLException e) {
      throw fail("commit", e);
    }
  }

  public synchronized List<StoredJob> jobs(boolean unfinishedOnly) {
    List<StoredJob> out = new ArrayList<>();
    String sql =
        "SELECT id, owner, spec, sink_path, sink_offset, submitted_ms, finished FROM jobs"
            + (unfinishedOnly ? " WHERE finished = 0" : "")
            + " ORDER BY submitted_ms, id";
    try (Statement s = db.createStatement();
        ResultSet rs = s.executeQuery(sql)) {
      while (rs.next()) {
        out.add(
            new StoredJob(
                rs.getString(1),
                rs.getString(2),
                JobSpec.parseFrom(rs.getBytes(3)),
                rs.getString(4),
                rs.getLong(5),
                rs.getLong(6),
                rs.getInt(7) != 0));
      }
      return out;
    } catch (SQLException | InvalidProtocolBufferException e) {
      throw new StoreException("cannot read jobs from " + file + ": " + e.getMessage(), e);
    }
  }

  public synchronized StoredJob job(String id) {
    for (StoredJob j : jobs(false)) {
      if (j.id().equals(id)) {
        return j;
      }
    }
    return null;
  }

  /** The number of committed events of a job. */
  public synchronized long eventCount(String jobId) {
    try (PreparedStatement q =
        db.prepareStatement("SELECT COUNT(*) FROM events WHERE job_id = ?")) {
      q.setString(1, jobId);
      try (ResultSet rs = q.executeQuery()) {
        return rs.next() ? rs.getLong(1) : 0;
      }
    } catch (SQLException e) {
      throw new StoreException(
          "cannot count events of job " + jobId + " in " + file + ": " + e.getMessage(), e);
    }
  }

  /** Up to {@code limit} committed events of a job from offset {@code from}, in order. */
  public synchronized List<JobEvent> events(String jobId, long from, int limit) {
    List<JobEvent> out = new ArrayList<>();
    try (PreparedStatement q =
        db.prepareStatement(
            "SELECT event FROM events WHERE job_id = ? AND event_offset >= ? ORDER BY event_offset"
                + " LIMIT ?")) {
      q.setString(1, jobId);
      q.setLong(2, from);
      q.setInt(3, limit);
      try (ResultSet rs = q.executeQuery()) {
        while (rs.next()) {
          out.add(JobEvent.parseFrom(rs.getBytes(1)));
        }
      }
      return out;
    } catch (SQLException | InvalidProtocolBufferException e) {
      throw new StoreException(
          "cannot read events of job " + jobId + " from " + file + ": " + e.getMessage(), e);
    }
  }

  /** The committed events of a job, in offset order. */
  public synchronized List<JobEvent> events(String jobId) {
    // A List holds at most Integer.MAX_VALUE elements: this limit is no limit.
    return events(jobId, Long.MIN_VALUE, Integer.MAX_VALUE);
  }

  private StoreException fail(String what, SQLException e) {
    try {
      db.rollback();
    } catch (SQLException again) {
      e.addSuppressed(again);
    }
    staged = 0;
    return new StoreException("job store " + file + ": cannot " + what + ": " + e.getMessage(), e);
  }

  @Override
  public synchronized void close() {
    try {
      db.close();
    } catch (SQLException e) {
      throw new StoreException("cannot close the job store " + file + ": " + e.getMessage(), e);
    }
  }
}
