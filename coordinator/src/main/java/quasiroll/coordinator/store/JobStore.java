package quasiroll.coordinator.store;

import com.google.protobuf.CodedInputStream;
import com.google.protobuf.CodedOutputStream;
import com.google.protobuf.InvalidProtocolBufferException;
import java.io.IOException;
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
 * <p>Events are stored in chunks: each commit writes one row per job holding the encodings of that
 * job's events in it (consecutive offsets), so a commit costs one insert per job, not one per
 * event; reads split a chunk back into exactly the bytes that were staged ({@link
 * #SCHEMA_VERSION}).
 *
 * <p>What is stored, and why it is enough to resume exactly: the job's spec with its prompts
 * resolved inline, its owner, and its whole event log (every published sample with its content hash
 * and reward, every group summary, every status). A job's state is a pure function of its event
 * log, so a restarted coordinator rebuilds each unfinished job from it and re-queues only the
 * sample indices that have no stored event; by the determinism contract the recomputed samples are
 * identical to the ones that were lost. The JSONL sink's committed length is stored with the events
 * of the same batch, so a resumed sink is cut back to exactly the groups the log says were written.
 *
 * <p>Writes are staged in memory and written and committed in batches ({@link #commit}, or {@link
 * #cut} then {@link #write} on a writer thread, so that the job manager never waits for SQLite or
 * an fsync); the job manager commits before it acknowledges anything (a submit, a shard) and before
 * events become visible to client streams, so nothing a client has seen is ever lost.
 *
 * <p>Thread-safe: staging takes only a short lock on the staged list, so it never waits for a write
 * in progress; the connection (writes, commits, reads) is used under this object's monitor.
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
  private final PreparedStatement insertChunk;
  private final PreparedStatement updateSink;
  private final PreparedStatement markFinished;
  private final PreparedStatement upsertGroup;

  /** Writes staged since the last {@link #cut}, in staging order; guarded by stagingLock. */
  private List<Staged> staged = new ArrayList<>();

  private final Object stagingLock = new Object();

  /** One staged write. */
  private sealed interface Staged {}

  private record JobRow(String id, String owner, JobSpec spec, String sinkPath, long submittedMs)
      implements Staged {}

  private record EventRow(String jobId, EncodedEvent event) implements Staged {}

  private record SinkOffset(String jobId, long offset) implements Staged {}

  private record GroupRow(String jobId, GroupState group) implements Staged {}

  /**
   * Writes cut from the staged ones at one point in time ({@link #cut}); written and committed by
   * {@link #write}, in cut order.
   */
  public static final class Batch {
    private final List<Staged> writes;

    private Batch(List<Staged> writes) {
      this.writes = writes;
    }

    public boolean isEmpty() {
      return writes.isEmpty();
    }
  }

  /**
   * What a job's group of prompt {@code promptIndex} runs on, beyond its events: the policy version
   * it is pinned to, its regeneration epoch and its size (k, or more once grown). Replay after a
   * restart needs it to tell a regenerated group's old samples from its new ones and to know how
   * far a group grew.
   */
  public record GroupState(int promptIndex, long version, int epoch, int size) {}

  /**
   * The store's schema version ({@code PRAGMA user_version}). 1 (stored as 0: the version before
   * versions were recorded) kept one row per event in table {@code events}; 2 keeps one row per
   * chunk of consecutive events of a job (table {@code event_chunks}: the events' encodings, each
   * behind its varint length, with the chunk's first offset and count). A version-1 store is
   * migrated on open (one transaction); a newer version than this is refused.
   */
  public static final int SCHEMA_VERSION = 2;

  /** Events per stored chunk at most (a commit of more events of one job writes several). */
  static final int MAX_CHUNK_EVENTS = 1024;

  /** Encoded bytes per stored chunk at most (a chunk ends after the event that passes this). */
  static final int MAX_CHUNK_BYTES = 1 << 20;

  private static final org.slf4j.Logger log = org.slf4j.LoggerFactory.getLogger(JobStore.class);

  private JobStore(Path file, Connection db) throws SQLException {
    this.file = file;
    this.db = db;
    try (Statement s = db.createStatement()) {
      s.execute("PRAGMA journal_mode = WAL");
      s.execute("PRAGMA synchronous = FULL");
      int version;
      try (ResultSet rs = s.executeQuery("PRAGMA user_version")) {
        version = rs.next() ? rs.getInt(1) : 0;
      }
      if (version > SCHEMA_VERSION) {
        db.close();
        throw new StoreException(
            "the job store "
                + file
                + " has schema version "
                + version
                + ", newer than this coordinator's ("
                + SCHEMA_VERSION
                + "): run the quasiroll version that wrote it, or start this one with a new"
                + " store file",
            null);
      }
      s.execute(
          "CREATE TABLE IF NOT EXISTS jobs (id TEXT PRIMARY KEY, owner TEXT NOT NULL, spec BLOB NOT"
              + " NULL, sink_path TEXT, sink_offset INTEGER NOT NULL DEFAULT 0, submitted_ms"
              + " INTEGER NOT NULL, finished INTEGER NOT NULL DEFAULT 0)");
      // Not WITHOUT ROWID: chunks are large rows, which SQLite keeps best in a rowid table.
      s.execute(
          "CREATE TABLE IF NOT EXISTS event_chunks (job_id TEXT NOT NULL, first_offset INTEGER NOT"
              + " NULL, count INTEGER NOT NULL, events BLOB NOT NULL, PRIMARY KEY (job_id,"
              + " first_offset))");
      s.execute(
          "CREATE TABLE IF NOT EXISTS groups (job_id TEXT NOT NULL, prompt_index INTEGER NOT NULL,"
              + " policy_version INTEGER NOT NULL, epoch INTEGER NOT NULL, size INTEGER NOT NULL,"
              + " PRIMARY KEY (job_id, prompt_index)) WITHOUT ROWID");
    }
    db.setAutoCommit(false);
    insertJob =
        db.prepareStatement(
            "INSERT INTO jobs (id, owner, spec, sink_path, submitted_ms) VALUES (?, ?, ?, ?, ?)");
    insertChunk =
        db.prepareStatement(
            "INSERT INTO event_chunks (job_id, first_offset, count, events) VALUES (?, ?, ?, ?)");
    updateSink = db.prepareStatement("UPDATE jobs SET sink_offset = ? WHERE id = ?");
    markFinished = db.prepareStatement("UPDATE jobs SET finished = 1 WHERE id = ?");
    upsertGroup =
        db.prepareStatement(
            "INSERT OR REPLACE INTO groups (job_id, prompt_index, policy_version, epoch, size)"
                + " VALUES (?, ?, ?, ?, ?)");
    migrateFromVersion1();
  }

  /**
   * Moves a version-1 store's per-event rows into chunks, drops the old table and records version
   * 2, in one transaction; sets the version of a new store. Offsets, bytes and order are kept.
   */
  private void migrateFromVersion1() throws SQLException {
    boolean legacy;
    try (Statement s = db.createStatement();
        ResultSet rs =
            s.executeQuery(
                "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'events'")) {
      legacy = rs.next();
    }
    try (Statement s = db.createStatement()) {
      if (legacy) {
        long events = 0;
        try (ResultSet rs =
            s.executeQuery(
                "SELECT job_id, event_offset, event FROM events ORDER BY job_id,"
                    + " event_offset")) {
          ChunkBuilder chunk = null;
          while (rs.next()) {
            String job = rs.getString(1);
            long offset = rs.getLong(2);
            byte[] bytes = rs.getBytes(3);
            if (chunk != null && !chunk.accepts(job, offset)) {
              chunk.insert(insertChunk);
              chunk = null;
            }
            if (chunk == null) {
              chunk = new ChunkBuilder(job, offset);
            }
            chunk.add(bytes);
            events++;
          }
          if (chunk != null) {
            chunk.insert(insertChunk);
          }
        }
        s.execute("DROP TABLE events");
        log.info(
            "job store {}: migrated {} events from schema version 1 (a row per event) to {} (a row"
                + " per chunk of events)",
            file,
            events,
            SCHEMA_VERSION);
      }
      s.execute("PRAGMA user_version = " + SCHEMA_VERSION);
    } catch (SQLException e) {
      db.rollback();
      throw e;
    }
    db.commit();
  }

  /**
   * Consecutive events of one job being joined into a chunk row: each event's encoding behind its
   * length as a protobuf varint.
   */
  private static final class ChunkBuilder {
    final String jobId;
    final long firstOffset;
    final List<byte[]> events = new ArrayList<>();
    int bytes;

    ChunkBuilder(String jobId, long firstOffset) {
      this.jobId = jobId;
      this.firstOffset = firstOffset;
    }

    /** Whether the event of {@code jobId} at {@code offset} continues this chunk. */
    boolean accepts(String jobId, long offset) {
      return this.jobId.equals(jobId)
          && offset == firstOffset + events.size()
          && events.size() < MAX_CHUNK_EVENTS
          && bytes < MAX_CHUNK_BYTES;
    }

    void add(byte[] event) {
      events.add(event);
      bytes += CodedOutputStream.computeByteArraySizeNoTag(event);
    }

    void insert(PreparedStatement insert) throws SQLException {
      byte[] blob = new byte[bytes];
      CodedOutputStream out = CodedOutputStream.newInstance(blob);
      try {
        for (byte[] e : events) {
          out.writeByteArrayNoTag(e);
        }
        out.checkNoSpaceLeft();
      } catch (IOException e) {
        throw new IllegalStateException("chunk of job " + jobId + " mis-sized", e);
      }
      insert.setString(1, jobId);
      insert.setLong(2, firstOffset);
      insert.setInt(3, events.size());
      insert.setBytes(4, blob);
      insert.executeUpdate();
    }
  }

  /**
   * Splits a chunk row into its events' encodings, appending those at offsets {@code >= from} to
   * {@code out} until it holds {@code limit}.
   */
  private void split(
      String jobId, long first, int count, byte[] blob, long from, int limit, List<byte[]> out) {
    CodedInputStream in = CodedInputStream.newInstance(blob);
    try {
      for (int i = 0; i < count; i++) {
        if (first + i < from) {
          in.skipRawBytes(in.readRawVarint32());
        } else if (out.size() >= limit) {
          return;
        } else {
          out.add(in.readByteArray());
        }
      }
      if (!in.isAtEnd()) {
        throw corrupt(jobId, first);
      }
    } catch (IOException e) {
      throw corrupt(jobId, first);
    }
  }

  private StoreException corrupt(String jobId, long first) {
    return new StoreException(
        "the job store "
            + file
            + " is corrupt: the chunk of job "
            + jobId
            + " at offset "
            + first
            + " does not split into its events",
        null);
  }

  /** Opens (creating if needed) the store at {@code file}. */
  public static JobStore open(Path file) {
    try {
      Path parent = file.toAbsolutePath().getParent();
      if (parent != null) {
        Files.createDirectories(parent);
      }
      // No generated keys: the store never reads them, and sqlite-jdbc would otherwise run a
      // "SELECT last_insert_rowid()" after every INSERT/UPDATE (a statement prepared each time).
      java.util.Properties props = new java.util.Properties();
      props.setProperty("jdbc.get_generated_keys", "false");
      return new JobStore(
          file, DriverManager.getConnection("jdbc:sqlite:" + file.toAbsolutePath(), props));
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

  public void stageJob(String id, String owner, JobSpec spec, String sinkPath, long submittedMs) {
    stage(new JobRow(id, owner, spec, sinkPath, submittedMs));
  }

  /** Stages an event (with its offset set); a final status also marks the job finished. */
  public void stageEvent(String jobId, JobEvent event) {
    stageEvent(jobId, EncodedEvent.of(event));
  }

  /**
   * Stages an event (with its offset set); its row holds {@link EncodedEvent#bytes}, which the
   * writer computes here once for everyone who later wants them (client streams).
   */
  public void stageEvent(String jobId, EncodedEvent event) {
    stage(new EventRow(jobId, event));
  }

  public void stageSinkOffset(String jobId, long offset) {
    stage(new SinkOffset(jobId, offset));
  }

  /** Stages a group's pinned version, epoch and size (replacing what was stored for it). */
  public void stageGroup(String jobId, GroupState g) {
    stage(new GroupRow(jobId, g));
  }

  private void stage(Staged w) {
    synchronized (stagingLock) {
      staged.add(w);
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

  /** Whether anything is staged and not yet cut (so not yet being written). */
  public boolean dirty() {
    synchronized (stagingLock) {
      return !staged.isEmpty();
    }
  }

  /**
   * Takes everything staged so far, in order, for {@link #write}; what is staged afterwards goes
   * into the next batch. Cheap: it only swaps a list.
   */
  public Batch cut() {
    List<Staged> out;
    synchronized (stagingLock) {
      if (staged.isEmpty()) {
        return new Batch(List.of());
      }
      out = staged;
      staged = new ArrayList<>();
    }
    return new Batch(out);
  }

  /**
   * Writes the batches, in order, and commits them in one fsync'd transaction (group commit). On
   * failure the transaction is rolled back and nothing of these batches is stored.
   */
  public synchronized void write(List<Batch> batches) {
    if (batches.stream().allMatch(Batch::isEmpty)) {
      return;
    }
    String what = "write";
    try {
      // Each job's events of this transaction go into chunk rows (consecutive offsets); the rows
      // are inserted before the commit, so order against the other writes does not matter.
      java.util.Map<String, ChunkBuilder> open = new java.util.HashMap<>();
      List<ChunkBuilder> full = new ArrayList<>();
      for (Batch b : batches) {
        for (Staged w : b.writes) {
          switch (w) {
            case JobRow j -> {
              what = "stage job " + j.id();
              insertJob.setString(1, j.id());
              insertJob.setString(2, j.owner());
              insertJob.setBytes(3, j.spec().toByteArray());
              insertJob.setString(4, j.sinkPath());
              insertJob.setLong(5, j.submittedMs());
              insertJob.executeUpdate();
            }
            case EventRow e -> {
              JobEvent event = e.event().event();
              long offset = event.getOffset();
              ChunkBuilder chunk = open.get(e.jobId());
              if (chunk != null && !chunk.accepts(e.jobId(), offset)) {
                full.add(chunk);
                chunk = null;
              }
              if (chunk == null) {
                chunk = new ChunkBuilder(e.jobId(), offset);
                open.put(e.jobId(), chunk);
              }
              chunk.add(e.event().bytes());
              if (event.hasStatus() && FINAL.contains(event.getStatus().getState())) {
                what = "mark job " + e.jobId() + " finished";
                markFinished.setString(1, e.jobId());
                markFinished.executeUpdate();
              }
            }
            case SinkOffset o -> {
              what = "stage the sink offset of job " + o.jobId();
              updateSink.setLong(1, o.offset());
              updateSink.setString(2, o.jobId());
              updateSink.executeUpdate();
            }
            case GroupRow g -> {
              what = "stage a group of job " + g.jobId();
              upsertGroup.setString(1, g.jobId());
              upsertGroup.setInt(2, g.group().promptIndex());
              upsertGroup.setLong(3, g.group().version());
              upsertGroup.setInt(4, g.group().epoch());
              upsertGroup.setInt(5, g.group().size());
              upsertGroup.executeUpdate();
            }
          }
        }
      }
      full.addAll(open.values());
      for (ChunkBuilder c : full) {
        what = "stage the events of job " + c.jobId + " from offset " + c.firstOffset;
        c.insert(insertChunk);
      }
      what = "commit";
      db.commit();
    } catch (SQLException e) {
      throw fail(what, e);
    }
  }

  /** Writes and commits everything staged (one fsync'd transaction), on the calling thread. */
  public void commit() {
    write(List.of(cut()));
  }

  public synchronized List<StoredJob> jobs(boolean unfinishedOnly) {
    return query(unfinishedOnly ? " WHERE finished = 0" : "", null);
  }

  /** The stored job {@code id}, or null (one indexed lookup, not a scan of every job). */
  public synchronized StoredJob job(String id) {
    List<StoredJob> one = query(" WHERE id = ?", id);
    return one.isEmpty() ? null : one.get(0);
  }

  private List<StoredJob> query(String where, String id) {
    List<StoredJob> out = new ArrayList<>();
    String sql =
        "SELECT id, owner, spec, sink_path, sink_offset, submitted_ms, finished FROM jobs"
            + where
            + " ORDER BY submitted_ms, id";
    try (PreparedStatement q = db.prepareStatement(sql)) {
      if (id != null) {
        q.setString(1, id);
      }
      try (ResultSet rs = q.executeQuery()) {
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
      }
      return out;
    } catch (SQLException | InvalidProtocolBufferException e) {
      throw new StoreException("cannot read jobs from " + file + ": " + e.getMessage(), e);
    }
  }

  /** The number of committed events of a job (offsets are dense from 0: the last chunk's end). */
  public synchronized long eventCount(String jobId) {
    try (PreparedStatement q =
        db.prepareStatement(
            "SELECT first_offset + count FROM event_chunks WHERE job_id = ? ORDER BY first_offset"
                + " DESC LIMIT 1")) {
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
    try {
      for (byte[] b : eventBytes(jobId, from, limit)) {
        out.add(JobEvent.parseFrom(b));
      }
      return out;
    } catch (InvalidProtocolBufferException e) {
      throw new StoreException(
          "cannot read events of job " + jobId + " from " + file + ": " + e.getMessage(), e);
    }
  }

  /**
   * Up to {@code limit} committed events of a job from offset {@code from}, in order, as their
   * stored bytes (parsed only when asked: a client stream that reads back older events just sends
   * them on).
   */
  public synchronized List<EncodedEvent> encodedEvents(String jobId, long from, int limit) {
    List<byte[]> bytes = eventBytes(jobId, from, limit);
    List<EncodedEvent> out = new ArrayList<>(bytes.size());
    for (byte[] b : bytes) {
      out.add(EncodedEvent.ofBytes(b));
    }
    return out;
  }

  /**
   * The stored encodings of up to {@code limit} events of a job from offset {@code from}: the chunk
   * that holds {@code from} (the last one starting at or before it), then the following ones.
   */
  private List<byte[]> eventBytes(String jobId, long from, int limit) {
    List<byte[]> out = new ArrayList<>();
    if (limit <= 0) {
      return out;
    }
    try (PreparedStatement q =
        db.prepareStatement(
            "SELECT first_offset, count, events FROM event_chunks WHERE job_id = ?1 AND"
                + " first_offset >= COALESCE((SELECT MAX(first_offset) FROM event_chunks WHERE"
                + " job_id = ?1 AND first_offset <= ?2), ?2) ORDER BY first_offset")) {
      q.setString(1, jobId);
      q.setLong(2, from);
      try (ResultSet rs = q.executeQuery()) {
        while (out.size() < limit && rs.next()) {
          split(jobId, rs.getLong(1), rs.getInt(2), rs.getBytes(3), from, limit, out);
        }
      }
      return out;
    } catch (SQLException e) {
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
