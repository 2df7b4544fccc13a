package dev.outbox.jdbc;

import dev.outbox.ClaimRequest;
import dev.outbox.ClaimedEntry;
import dev.outbox.FailedEntry;
import dev.outbox.OutboxException;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;
import javax.sql.DataSource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The claims of a {@link JdbcStorage} in {@link LeaseMode#LOCK}: each one a connection in an open
 * transaction whose {@code SELECT ... FOR UPDATE SKIP LOCKED} row locks are the lease.
 *
 * <p>A claim ends in one of these ways, after which its token is an ordinary row-lease token (or
 * unknown, which behaves the same):
 *
 * <ul>
 *   <li>its last held entry is deleted, released or dead-lettered, or {@link #finish}: commit;
 *   <li>{@link #renew}, the hold limit ({@code lockHoldLimit}) or {@link #deadLetter}: the entries
 *       still held are converted into a row lease ({@code claim_token}, {@code processor_id},
 *       {@code available_at} = deadline) and the transaction commits;
 *   <li>a claim whose deadline is not after another claim's {@code now} has expired: it commits
 *       (what it deleted or released stays so; the rest become claimable, like an expired row
 *       lease);
 *   <li>any failure on its connection: rollback; every entry still held is claimable at once.
 * </ul>
 *
 * <p>Thread-safety: the processing thread, the outbox's lease-renewal thread, the hold-limit timer
 * and other claimers (expiry) may all touch one claim; every use of its connection synchronizes on
 * the claim, and none of them holds one claim's monitor while taking another's.
 */
final class LockedClaims {

  private static final Logger log = LoggerFactory.getLogger(LockedClaims.class);

  /** One claim held by an open transaction. Guarded by its own monitor. */
  private static final class Held {
    final UUID token;
    final String processorId;
    final Instant deadline;
    final Connection c;
    final boolean restoreAutoCommit;
    final TreeSet<Long> remaining = new TreeSet<>();
    ScheduledFuture<?> limit;
    boolean open = true;

    Held(ClaimRequest r, Connection c, boolean restoreAutoCommit, List<ClaimedEntry> entries) {
      this.token = r.claimToken();
      this.processorId = r.processorId();
      this.deadline = r.deadline();
      this.c = c;
      this.restoreAutoCommit = restoreAutoCommit;
      for (ClaimedEntry e : entries) {
        remaining.add(e.id());
      }
    }
  }

  private final DataSource dataSource;
  private final JdbcDialect dialect;
  private final Sql sql;
  private final Transactions tx;
  private final Duration holdLimit;
  private final Semaphore permits;
  private final ConcurrentHashMap<UUID, Held> held = new ConcurrentHashMap<>();
  private final ScheduledThreadPoolExecutor timer;
  private final LongAdder conversions = new LongAdder();
  private final LongAdder rowLeaseFallbacks = new LongAdder();
  private final LongAdder failures = new LongAdder();
  private final String claimSql;
  private final Object[] stripes = new Object[64];

  LockedClaims(
      DataSource dataSource,
      JdbcDialect dialect,
      Sql sql,
      Transactions tx,
      Duration holdLimit,
      int maxClaims) {
    this.dataSource = dataSource;
    this.dialect = dialect;
    this.sql = sql;
    this.tx = tx;
    this.holdLimit = holdLimit;
    this.permits = new Semaphore(maxClaims);
    this.claimSql = claimSql(sql);
    for (int i = 0; i < stripes.length; i++) {
      stripes[i] = new Object();
    }
    String name = "outbox-lock-hold-" + sql.table.name();
    this.timer =
        new ScheduledThreadPoolExecutor(
            1,
            r -> {
              Thread t = new Thread(r, name);
              t.setDaemon(true);
              return t;
            });
    timer.setRemoveOnCancelPolicy(true);
    timer.setKeepAliveTime(10, TimeUnit.SECONDS);
    timer.allowCoreThreadTimeOut(true);
  }

  /** The claim: the oldest available rows, locked, skipping rows another transaction holds. */
  static String claimSql(Sql sql) {
    return "SELECT "
        + sql.entryColumns
        + ", attempts FROM "
        + sql.t
        + " WHERE available_at <= ? ORDER BY id LIMIT ? FOR UPDATE SKIP LOCKED";
  }

  /** Writes a row lease into held rows (the conversion). */
  private String leaseSql(int n) {
    return "UPDATE "
        + sql.t
        + " SET claim_token = ?, processor_id = ?, available_at = ? WHERE "
        + dialect.idIn("id", n);
  }

  /** How many claims hold a transaction open right now. */
  int open() {
    return held.size();
  }

  /** How many lock-held claims were converted into row leases (renewal or hold limit). */
  long conversions() {
    return conversions.sum();
  }

  /** How many lock-held claims a deadlock ended before their delete. */
  long deadlocks() {
    return failures.sum();
  }

  /** How many claims took a row lease because {@code maxLockedClaims} were held. */
  long rowLeaseFallbacks() {
    return rowLeaseFallbacks.sum();
  }

  // ---------------------------------------------------------------- claim

  /**
   * Claims with row locks or, when {@code maxLockedClaims} claims are held already, with a row
   * lease. First ends held claims that expired at the request's {@code now}.
   */
  List<ClaimedEntry> claim(ClaimRequest r) {
    expire(r.now());
    if (!permits.tryAcquire()) {
      rowLeaseFallbacks.increment();
      return rowLeaseClaim(r);
    }
    Connection c = null;
    boolean restore = false;
    boolean handedOver = false;
    try {
      c = dataSource.getConnection();
      restore = c.getAutoCommit();
      if (restore) {
        c.setAutoCommit(false);
      }
      dialect.beginWork(c);
      List<ClaimedEntry> entries = new ArrayList<>();
      try (PreparedStatement ps = c.prepareStatement(claimSql)) {
        dialect.setInstant(ps, 1, r.now());
        ps.setInt(2, r.limit());
        try (ResultSet rs = ps.executeQuery()) {
          while (rs.next()) {
            entries.add(Rows.claimed(rs, dialect));
          }
        }
      }
      if (entries.isEmpty()) {
        c.commit(); // nothing locked; end the transaction before the connection goes back
        return entries;
      }
      Held h = new Held(r, c, restore, entries);
      synchronized (h) {
        held.put(h.token, h);
        h.limit =
            timer.schedule(() -> holdLimitReached(h), holdLimit.toNanos(), TimeUnit.NANOSECONDS);
      }
      handedOver = true;
      return entries;
    } catch (SQLException | RuntimeException e) {
      if (c != null) {
        rollbackQuietly(c, e);
      }
      if (e instanceof SQLException s) {
        throw tx.failure(
            "lock-held claim of up to " + r.limit() + " entries for processor " + r.processorId(),
            s);
      }
      throw (RuntimeException) e;
    } finally {
      if (!handedOver) {
        if (c != null) {
          close(c, restore);
        }
        permits.release();
      }
    }
  }

  /**
   * A row-lease claim built from the lock-held one: the same outermost {@code SELECT ... FOR UPDATE
   * SKIP LOCKED}, then the lease written by id, in one short transaction. Not the dialect's
   * one-statement claim: MariaDB's {@code UPDATE} over a {@code SKIP LOCKED} derived table waits
   * for rows another transaction holds, which lock-held claims do for up to the hold limit.
   */
  private List<ClaimedEntry> rowLeaseClaim(ClaimRequest r) {
    return tx.transaction(
        "claim of up to " + r.limit() + " entries for processor " + r.processorId(),
        c -> {
          List<ClaimedEntry> entries = new ArrayList<>();
          try (PreparedStatement ps = c.prepareStatement(claimSql)) {
            dialect.setInstant(ps, 1, r.now());
            ps.setInt(2, r.limit());
            try (ResultSet rs = ps.executeQuery()) {
              while (rs.next()) {
                entries.add(Rows.claimed(rs, dialect));
              }
            }
          }
          if (!entries.isEmpty()) {
            List<Long> ids = entries.stream().map(ClaimedEntry::id).toList();
            try (PreparedStatement ps = c.prepareStatement(leaseSql(ids.size()))) {
              dialect.setUuid(ps, 1, r.claimToken());
              ps.setString(2, r.processorId());
              dialect.setInstant(ps, 3, r.deadline());
              dialect.bindIds(ps, 4, ids);
              ps.executeUpdate();
            }
          }
          return entries;
        });
  }

  /** Ends (commits) every held claim whose deadline is not after {@code now}. */
  private void expire(Instant now) {
    for (Held h : held.values()) {
      if (!h.deadline.isAfter(now)) {
        synchronized (h) {
          if (!h.open) {
            continue;
          }
          log.warn(
              "the lock-held claim {} of {} on {} entries expired at {} (now {}) without being"
                  + " finished or renewed; its transaction commits and the entries are claimable",
              h.token,
              h.processorId,
              h.remaining.size(),
              h.deadline,
              now);
          try {
            commitAndEnd(h);
          } catch (SQLException e) {
            log.warn("could not commit the expired claim {}; rolled back", h.token, e);
          }
        }
      }
    }
  }

  // ---------------------------------------------------------------- the claim's entries

  // ---------------------------------------------------------------- row-lease tokens

  /**
   * A token that holds no transaction is a row-lease token (converted, fallen back, or stale). Its
   * statements must not wait for rows that a lock-held claim holds (a stale token's rows may have
   * been taken over by one): they lock the rows still carrying the token, skipping locked ones, and
   * change only those, in one transaction.
   */
  private <R> R owned(
      String operation, UUID token, List<Long> sortedIds, OwnedWork<R> work, R none) {
    synchronized (stripe(token)) {
      return ownedUnserialized(operation, token, sortedIds, work, none);
    }
  }

  /**
   * The monitor that serializes one token's row-lease operations in this JVM. Their {@code SKIP
   * LOCKED} must skip other claims' rows, never the same token's: a lease renewal running while its
   * processor deletes the batch would otherwise make the delete skip the rows the renewal has
   * locked for a moment.
   */
  Object stripe(UUID token) {
    return stripes[Math.floorMod(token.hashCode(), stripes.length)];
  }

  private <R> R ownedUnserialized(
      String operation, UUID token, List<Long> sortedIds, OwnedWork<R> work, R none) {
    return tx.transaction(
        operation,
        c -> {
          List<Long> owned = new ArrayList<>();
          try (PreparedStatement ps =
              c.prepareStatement(sql.lockClaimed(sortedIds.size()) + " SKIP LOCKED")) {
            int next = dialect.bindIds(ps, 1, sortedIds);
            dialect.setUuid(ps, next, token);
            try (ResultSet rs = ps.executeQuery()) {
              while (rs.next()) {
                owned.add(rs.getLong(1));
              }
            }
          }
          return owned.isEmpty() ? none : work.run(c, owned);
        });
  }

  @FunctionalInterface
  private interface OwnedWork<R> {
    R run(Connection c, List<Long> owned) throws SQLException;
  }

  private static int deleteIds(Connection c, Sql sql, JdbcDialect dialect, List<Long> ids)
      throws SQLException {
    try (PreparedStatement ps = c.prepareStatement(sql.deleteEntries(ids.size()))) {
      dialect.bindIds(ps, 1, ids);
      return ps.executeUpdate();
    }
  }

  /** The row-lease delete of a token that holds no transaction. */
  private int rowDelete(UUID token, List<Long> sortedIds) {
    return owned(
        "delete of " + sortedIds.size() + " entries",
        token,
        sortedIds,
        (c, owned) -> deleteIds(c, sql, dialect, owned),
        0);
  }

  private int rowRenew(UUID token, List<Long> sortedIds, Instant deadline) {
    return owned(
        "renewal of " + sortedIds.size() + " claims",
        token,
        sortedIds,
        (c, owned) -> {
          try (PreparedStatement ps =
              c.prepareStatement(
                  "UPDATE "
                      + sql.t
                      + " SET available_at = ? WHERE "
                      + dialect.idIn("id", owned.size()))) {
            dialect.setInstant(ps, 1, deadline);
            dialect.bindIds(ps, 2, owned);
            return ps.executeUpdate();
          }
        },
        0);
  }

  private int rowRelease(UUID token, List<FailedEntry> sortedFailures) {
    List<Long> ids = sortedFailures.stream().map(FailedEntry::id).distinct().toList();
    return owned(
        "release of " + sortedFailures.size() + " entries",
        token,
        ids,
        (c, owned) -> {
          Set<Long> mine = new HashSet<>(owned);
          return dialect.releaseHeld(
              c, sql, sortedFailures.stream().filter(f -> mine.contains(f.id())).toList());
        },
        0);
  }

  // ---------------------------------------------------------------- the claim's entries

  /** Deletes the claim's entries: on its held connection, or as a row lease. */
  int delete(UUID token, List<Long> sortedIds) {
    Integer held = deleteHeld(token, sortedIds);
    return held != null ? held : rowDelete(token, sortedIds);
  }

  /** Records failures of the claim's entries: on its held connection, or as a row lease. */
  int release(UUID token, List<FailedEntry> sortedFailures) {
    Integer held = releaseHeld(token, sortedFailures);
    return held != null ? held : rowRelease(token, sortedFailures);
  }

  /** Renews: converts a held claim into a row lease, or renews a row lease. */
  int renew(UUID token, List<Long> sortedIds, Instant deadline) {
    Integer held = renewHeld(token, sortedIds, deadline);
    return held != null ? held : rowRenew(token, sortedIds, deadline);
  }

  /** Deletes held entries on the claim's connection; null when the token holds no transaction. */
  private Integer deleteHeld(UUID token, List<Long> sortedIds) {
    Held h = held.get(token);
    if (h == null) {
      return null;
    }
    synchronized (h) {
      if (!h.open) {
        return null;
      }
      List<Long> mine = mine(h, sortedIds);
      if (mine.isEmpty()) {
        return 0;
      }
      try {
        boolean last = mine.size() == h.remaining.size(); // the common case: the whole batch
        int deleted =
            last ? dialect.deleteLast(h.c, sql, mine) : deleteIds(h.c, sql, dialect, mine);
        h.remaining.removeAll(mine);
        if (h.remaining.isEmpty()) {
          commitAndEnd(h);
        }
        return deleted;
      } catch (SQLException e) {
        String conflict = SqlErrors.transientConflict(e);
        OutboxException failure = abort(h, "delete of " + mine.size() + " lock-held entries", e);
        if (conflict == null) {
          throw failure;
        }
        // The database chose this transaction as a deadlock victim and rolled it back, so the
        // entries are no longer held. They were published: delete those nobody has claimed
        // since (deleting a delivered entry can never lose it); ones another claim took are
        // published again by it.
        log.info(
            "a {} ended lock-held claim {}; deleting its {} published entries unless reclaimed",
            conflict,
            token,
            mine.size());
        failures.increment();
        return deleteUnclaimed(mine);
      }
    }
  }

  /** Deletes published entries no other transaction holds, whoever's claim they carry. */
  private int deleteUnclaimed(List<Long> ids) {
    return tx.transaction(
        "delete of " + ids.size() + " published entries after a deadlock",
        c -> {
          List<Long> free = new ArrayList<>();
          try (PreparedStatement ps =
              c.prepareStatement(
                  "SELECT id FROM "
                      + sql.t
                      + " WHERE "
                      + dialect.idIn("id", ids.size())
                      + " ORDER BY id FOR UPDATE SKIP LOCKED")) {
            dialect.bindIds(ps, 1, ids);
            try (ResultSet rs = ps.executeQuery()) {
              while (rs.next()) {
                free.add(rs.getLong(1));
              }
            }
          }
          return free.isEmpty() ? 0 : deleteIds(c, sql, dialect, free);
        });
  }

  /** Records failures of held entries; null when the token holds no transaction. */
  private Integer releaseHeld(UUID token, List<FailedEntry> sortedFailures) {
    Held h = held.get(token);
    if (h == null) {
      return null;
    }
    synchronized (h) {
      if (!h.open) {
        return null;
      }
      List<FailedEntry> mine =
          sortedFailures.stream().filter(f -> h.remaining.contains(f.id())).toList();
      if (mine.isEmpty()) {
        return 0;
      }
      try {
        int released = dialect.releaseHeld(h.c, sql, mine);
        mine.forEach(f -> h.remaining.remove(f.id()));
        if (h.remaining.isEmpty()) {
          commitAndEnd(h);
        }
        return released;
      } catch (SQLException e) {
        throw abort(h, "release of " + mine.size() + " lock-held entries", e);
      }
    }
  }

  /**
   * Moves held entries to the dead letters and commits at once (dead letters are visible to the
   * admin API when this returns); entries still held become a row lease until the claim's deadline.
   * Null when the token holds no transaction.
   */
  Integer deadLetter(UUID token, List<FailedEntry> sortedFailures, Instant now) {
    Held h = held.get(token);
    if (h == null) {
      return null;
    }
    synchronized (h) {
      if (!h.open) {
        return null;
      }
      List<FailedEntry> mine =
          sortedFailures.stream().filter(f -> h.remaining.contains(f.id())).toList();
      try {
        int moved = 0;
        if (!mine.isEmpty()) {
          Set<Long> copied = new HashSet<>();
          try (PreparedStatement ps = h.c.prepareStatement(sql.copyToDeadLetters)) {
            for (FailedEntry f : mine) {
              if (copied.add(f.id())) { // a repeated id is moved once
                ps.setInt(1, f.attempts());
                ps.setString(2, Sql.description(f.error()));
                dialect.setInstant(ps, 3, now);
                ps.setLong(4, f.id());
                ps.addBatch();
              }
            }
            ps.executeBatch();
          }
          List<Long> ids = new ArrayList<>(new TreeSet<>(copied));
          try (PreparedStatement ps = h.c.prepareStatement(sql.deleteEntries(ids.size()))) {
            dialect.bindIds(ps, 1, ids);
            moved = ps.executeUpdate();
          }
          h.remaining.removeAll(ids);
        }
        lease(h, new ArrayList<>(h.remaining), h.deadline);
        commitAndEnd(h);
        return moved;
      } catch (SQLException e) {
        throw abort(h, "dead-lettering of " + mine.size() + " lock-held entries", e);
      }
    }
  }

  /**
   * Converts the claim into a row lease: the given entries it still holds until {@code deadline},
   * the others it holds until the claim's own deadline; then commits. Null when the token holds no
   * transaction.
   */
  private Integer renewHeld(UUID token, List<Long> sortedIds, Instant deadline) {
    Held h = held.get(token);
    if (h == null) {
      return null;
    }
    synchronized (h) {
      if (!h.open) {
        return null;
      }
      List<Long> renewed = mine(h, sortedIds);
      List<Long> rest = new ArrayList<>(h.remaining);
      rest.removeAll(new HashSet<>(renewed));
      try {
        int n = lease(h, renewed, deadline);
        lease(h, rest, h.deadline);
        commitAndEnd(h);
        conversions.increment();
        log.debug("lock-held claim {} converted into a row lease on renewal", token);
        return n;
      } catch (SQLException e) {
        throw abort(h, "conversion of a lock-held claim into a row lease", e);
      }
    }
  }

  /** Commits the claim's transaction if it still holds one; nothing for an unknown token. */
  void finish(UUID token) {
    Held h = held.get(token);
    if (h == null) {
      return;
    }
    synchronized (h) {
      if (!h.open) {
        return;
      }
      try {
        commitAndEnd(h);
      } catch (SQLException e) {
        throw tx.failure("commit of a lock-held claim", e);
      }
    }
  }

  /** Commits every held claim (for tests: the entries still held become claimable at once). */
  void finishAll() {
    for (UUID token : List.copyOf(held.keySet())) {
      try {
        finish(token);
      } catch (OutboxException e) {
        log.warn("could not finish lock-held claim {}", token, e);
      }
    }
  }

  /** The hold limit: the claim becomes a row lease until its deadline and the transaction ends. */
  private void holdLimitReached(Held h) {
    synchronized (h) {
      if (!h.open) {
        return;
      }
      try {
        lease(h, new ArrayList<>(h.remaining), h.deadline);
        commitAndEnd(h);
        conversions.increment();
        log.debug(
            "lock-held claim {} of {} converted into a row lease after {}",
            h.token,
            h.processorId,
            holdLimit);
      } catch (SQLException e) {
        log.warn(
            "could not convert lock-held claim {} of {} into a row lease after {}; rolled back,"
                + " its entries are claimable again (they may be published twice)",
            h.token,
            h.processorId,
            holdLimit,
            e);
        rollbackQuietly(h.c, e);
        end(h);
      }
    }
  }

  // ---------------------------------------------------------------- helpers (hold the monitor)

  private static List<Long> mine(Held h, Collection<Long> sortedIds) {
    return sortedIds.stream().filter(h.remaining::contains).toList();
  }

  private int lease(Held h, List<Long> ids, Instant deadline) throws SQLException {
    if (ids.isEmpty()) {
      return 0;
    }
    try (PreparedStatement ps = h.c.prepareStatement(leaseSql(ids.size()))) {
      dialect.setUuid(ps, 1, h.token);
      ps.setString(2, h.processorId);
      dialect.setInstant(ps, 3, deadline);
      dialect.bindIds(ps, 4, ids);
      return ps.executeUpdate();
    }
  }

  private void commitAndEnd(Held h) throws SQLException {
    try {
      h.c.commit();
    } catch (SQLException e) {
      rollbackQuietly(h.c, e);
      throw e;
    } finally {
      end(h);
    }
  }

  private OutboxException abort(Held h, String operation, SQLException e) {
    rollbackQuietly(h.c, e);
    end(h);
    return tx.failure(
        operation + " (the claim's transaction was rolled back; its entries are claimable again)",
        e);
  }

  private void end(Held h) {
    h.open = false;
    held.remove(h.token, h);
    if (h.limit != null) {
      h.limit.cancel(false);
    }
    close(h.c, h.restoreAutoCommit);
    permits.release();
  }

  private static void rollbackQuietly(Connection c, Exception cause) {
    try {
      c.rollback();
    } catch (SQLException | RuntimeException r) {
      cause.addSuppressed(r);
    }
  }

  private static void close(Connection c, boolean restoreAutoCommit) {
    try {
      if (restoreAutoCommit) {
        c.setAutoCommit(true);
      }
    } catch (SQLException | RuntimeException e) {
      log.debug("could not restore auto-commit on a connection going back to the pool", e);
    }
    try {
      c.close();
    } catch (SQLException | RuntimeException e) {
      log.debug("could not close a connection", e);
    }
  }
}
