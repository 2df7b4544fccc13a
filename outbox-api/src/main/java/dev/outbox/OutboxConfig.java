package dev.outbox;

import java.time.Duration;

/**
 * The validated, immutable settings of an {@link Outbox}; see {@link Outbox.Builder} for each
 * setting's meaning, default and allowed range.
 *
 * @param processorId this processor's name in claims
 * @param batchSize the most entries claimed and published at once
 * @param claimDuration how long a claim (lease) lasts before others may take the entries
 * @param processInterval how long the loop waits between passes when nothing wakes it
 * @param busyInterval how long the loop waits after a pass that found entries (0: processInterval)
 * @param maxAttempts failed attempts after which an entry is dead-lettered; 0 for unlimited
 * @param retryBackoffInitial the wait after an entry's first failure
 * @param retryBackoffMax the longest wait between an entry's attempts
 * @param retryJitter the fraction of each retry wait that is randomised, 0 to 1
 * @param errorBackoffInitial the loop's wait after its first failed pass
 * @param errorBackoffMax the loop's longest wait after failed passes
 * @param maxMessageBytes the largest message {@link Outbox#publish} accepts
 * @param shutdownTimeout how long {@link Outbox#close()} waits for the batch in hand
 * @param publishTimeout the longest a publisher call may take before it is abandoned
 */
public record OutboxConfig(
    String processorId,
    int batchSize,
    Duration claimDuration,
    Duration processInterval,
    Duration busyInterval,
    int maxAttempts,
    Duration retryBackoffInitial,
    Duration retryBackoffMax,
    double retryJitter,
    Duration errorBackoffInitial,
    Duration errorBackoffMax,
    int maxMessageBytes,
    Duration shutdownTimeout,
    Duration publishTimeout) {}
