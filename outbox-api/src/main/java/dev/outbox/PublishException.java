package dev.outbox;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * Thrown by a {@link Publisher} when some entries of a batch were not published: carries one
 * outcome per failed entry, keyed by the entry's id, so the processor deletes exactly the entries
 * that were sent and keeps the rest.
 *
 * <p>A failure is <em>retryable</em> (throttling, a timeout, a broker outage: the entry is tried
 * again after a backoff) or <em>permanent</em> (the message can never be sent as it is, such as one
 * over the broker's size limit: the entry goes to the dead letters at once, where the storage keeps
 * them).
 *
 * <pre>{@code
 * PublishException.Builder failures = PublishException.builder();
 * for (...) failures.retryable(entry, cause);
 * failures.throwIfAny();
 * }</pre>
 */
public final class PublishException extends OutboxException {

  /**
   * One entry's failure.
   *
   * @param cause why it failed
   * @param permanent whether retrying cannot help
   */
  public record Failure(Throwable cause, boolean permanent) {
    /** Checks the fields. */
    public Failure {
      Objects.requireNonNull(cause, "cause");
    }
  }

  private final Map<Long, Failure> failures;

  private PublishException(Map<Long, Failure> failures) {
    super(summary(failures), failures.values().iterator().next().cause());
    this.failures = Collections.unmodifiableMap(failures);
  }

  /** Starts collecting per-entry failures. */
  public static Builder builder() {
    return new Builder();
  }

  /**
   * Builds an exception from results aligned with a batch: {@code results.get(i)} is the outcome of
   * {@code batch.get(i)}, {@code null} meaning sent. Every failure is retryable.
   *
   * @throws IllegalArgumentException when the lists differ in size or no result is a failure
   */
  public static PublishException fromResults(List<ClaimedEntry> batch, List<Throwable> results) {
    if (batch.size() != results.size()) {
      throw new IllegalArgumentException(
          "batch has " + batch.size() + " entries but results has " + results.size());
    }
    Builder b = builder();
    for (int i = 0; i < batch.size(); i++) {
      if (results.get(i) != null) {
        b.retryable(batch.get(i), results.get(i));
      }
    }
    return b.build();
  }

  /** The failures by entry id, in the order they were added. */
  public Map<Long, Failure> failures() {
    return failures;
  }

  /** How many entries failed. */
  public int errorCount() {
    return failures.size();
  }

  /** Whether the entry with this id failed. */
  public boolean failed(long entryId) {
    return failures.containsKey(entryId);
  }

  /** The failure of the entry with this id, or {@code null} when it was sent. */
  public Failure failureOf(long entryId) {
    return failures.get(entryId);
  }

  private static String summary(Map<Long, Failure> failures) {
    Failure first = failures.values().iterator().next();
    return failures.size()
        + " entr"
        + (failures.size() == 1 ? "y" : "ies")
        + " failed to publish; first (id "
        + failures.keySet().iterator().next()
        + (first.permanent() ? ", permanent" : ", retryable")
        + "): "
        + first.cause();
  }

  /** Collects per-entry failures; see {@link PublishException}. */
  public static final class Builder {
    private final Map<Long, Failure> failures = new LinkedHashMap<>();

    private Builder() {}

    /** Records a failure that a later attempt may overcome. */
    public Builder retryable(ClaimedEntry entry, Throwable cause) {
      return add(entry.id(), new Failure(cause, false));
    }

    /** Records a failure that no retry can overcome. */
    public Builder permanent(ClaimedEntry entry, Throwable cause) {
      return add(entry.id(), new Failure(cause, true));
    }

    /** Records a failure by entry id. */
    public Builder add(long entryId, Failure failure) {
      Objects.requireNonNull(failure, "failure");
      failures.put(entryId, failure);
      return this;
    }

    /** Whether any failure was recorded. */
    public boolean isEmpty() {
      return failures.isEmpty();
    }

    /**
     * Builds the exception.
     *
     * @throws IllegalStateException when no failure was recorded
     */
    public PublishException build() {
      if (failures.isEmpty()) {
        throw new IllegalStateException("a PublishException needs at least one failed entry");
      }
      return new PublishException(new LinkedHashMap<>(failures));
    }

    /** Throws the exception when any failure was recorded, else returns. */
    public void throwIfAny() throws PublishException {
      if (!failures.isEmpty()) {
        throw build();
      }
    }
  }
}
