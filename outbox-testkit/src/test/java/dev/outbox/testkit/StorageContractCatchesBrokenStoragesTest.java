package dev.outbox.testkit;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The storage contract catches what it targets: each deliberately broken storage of {@link
 * BrokenStorages} fails the contract test(s) of its rule, with a message naming the rule, and
 * nothing is skipped.
 */
class StorageContractCatchesBrokenStoragesTest {

  /** Runs the contract against {@code broken} and checks each test fails naming its rule. */
  private static ContractRun caught(Class<?> broken, Map<String, String> ruleByTest) {
    ContractRun run = ContractRun.of(broken);
    System.out.println(broken.getSimpleName() + ": " + run);
    assertThat(unorderedSkipped(run)).as("%s: nothing skipped", broken.getSimpleName()).isEmpty();
    ruleByTest.forEach(
        (test, rule) ->
            assertThat(run.message(test))
                .as("%s must fail %s naming the rule; %s", broken.getSimpleName(), test, run)
                .isNotNull()
                .contains(rule));
    return run;
  }

  /** The skipped tests, but those of ordering, which an unordered storage skips. */
  private static java.util.List<String> unorderedSkipped(ContractRun run) {
    return run.skipped.stream().filter(t -> !t.startsWith("ordered")).toList();
  }

  @Test
  void orderedInMemoryStoragesPassEveryTestWithNothingSkipped() {
    for (Class<?> ordered :
        java.util.List.of(InMemoryStorageByKeyTest.class, InMemoryStorageByKeyBlockingTest.class)) {
      ContractRun run = ContractRun.of(ordered);
      assertThat(run.failed).as("%s", run).isEmpty();
      assertThat(run.skipped)
          .as("%s: only the tests of the blocking mode may be skipped", run)
          .allMatch(t -> t.equals("orderedAPurgedDeadLetterUnblocksItsKey"));
    }
  }

  @Test
  void inMemoryStoragePassesEveryTestWithNothingSkipped() {
    ContractRun run = ContractRun.of(InMemoryStorageTest.class);

    assertThat(run.failed).as("%s", run).isEmpty();
    assertThat(unorderedSkipped(run)).as("%s", run).isEmpty();
    assertThat(run.passed).hasSizeGreaterThanOrEqualTo(35);
  }

  @Test
  void trailingZeroBytesTrimmed() {
    caught(
        BrokenStorages.TrimsTrailingZeros.class,
        Map.of(
            "zeroBytesAndHeaderCaseAndWhitespaceAreKeptExactly",
            "publish must keep every byte exactly",
            "largePayloadsAreKeptWhole",
            "publish must keep every byte exactly"));
  }

  @Test
  void payloadsTruncated() {
    caught(
        BrokenStorages.TruncatesPayloads.class,
        Map.of(
            "largePayloadsAreKeptWhole",
            "publish must keep every byte exactly (no trimming, padding or truncation): length of"
                + " a payload of 4097 bytes"));
  }

  @Test
  void headerNamesLowerCased() {
    caught(
        BrokenStorages.LowerCasesHeaderNames.class,
        Map.of(
            "zeroBytesAndHeaderCaseAndWhitespaceAreKeptExactly",
            "publish must keep header names and values exactly"));
  }

  @Test
  void headerValuesStripped() {
    caught(
        BrokenStorages.StripsHeaderValues.class,
        Map.of(
            "zeroBytesAndHeaderCaseAndWhitespaceAreKeptExactly",
            "publish must keep header names and values exactly"));
  }

  @Test
  void writesOutsideTheCallersTransaction() {
    caught(
        BrokenStorages.WritesOutsideTheTransaction.class,
        Map.of(
            "rolledBackPublishLeavesNoEntry",
            "entries of a rolled-back transaction must never be claimable",
            "entriesAreInvisibleUntilTheirTransactionCommits",
            "must not be claimable before it commits"));
  }

  @Test
  void attemptsKeptOnRequeueAll() {
    caught(
        BrokenStorages.KeepsAttemptsOnRequeueAll.class,
        Map.of("requeueAllAndPurgeAllEmptyTheDeadLetters", "requeueAll must reset attempts to 0"));
  }

  @Test
  void otherTokensEntriesRenewedBehindAnHonestCount() {
    caught(
        BrokenStorages.RenewsOtherTokensEntries.class,
        Map.of(
            "renewChangesOnlyEntriesOfItsOwnToken",
            "fencing: renew must not extend an entry another token holds",
            "twoClaimsUnderOneProcessorIdCannotChangeEachOthersEntries",
            "fencing: a stale token's delete/renew/release must not change the entries"));
  }

  @Test
  void aClaimThatDoesNotHideFailsFastInsteadOfHanging() {
    ContractRun run =
        caught(
            BrokenStorages.ClaimDoesNotHide.class,
            Map.of(
                "aClaimHidesEntriesUntilItsDeadline",
                "a claim must hide its entries until its deadline",
                "concurrentClaimersNeverReceiveTheSameEntry",
                "a claim must hide its entries until its deadline"));

    assertThat(run.durations.get("concurrentClaimersNeverReceiveTheSameEntry"))
        .as("the concurrency test fails fast")
        .isLessThan(Duration.ofSeconds(10));
  }

  @Test
  void claimLimitIgnored() {
    caught(
        BrokenStorages.IgnoresClaimLimit.class,
        Map.of(
            "claimIsBoundedAndProcessorsShareTheBacklog",
            "claim must return at most limit (4) entries"));
  }

  @Test
  void claimedEntriesNewestFirst() {
    caught(
        BrokenStorages.ReturnsNewestFirst.class,
        Map.of(
            "claimReturnsPublishedMessagesOldestFirstByteExact",
            "claim must return entries oldest (smallest id) first",
            "messagesOfLaterTransactionsGetLargerIds",
            "claim must return entries oldest (smallest id) first"));
  }

  @Test
  void attemptsNotPersisted() {
    caught(
        BrokenStorages.ForgetsAttempts.class,
        Map.of(
            "aFailedEntryIsHiddenUntilItsRetryTimeAndKeepsItsAttempts",
            "release must store the entry's attempts",
            "attemptsAccumulateOverSeveralFailures",
            "release must store the attempts it is given"));
  }

  @Test
  void aNullStorageSaysWhatToReturn() {
    ContractRun run = ContractRun.of(BrokenStorages.NullStorage.class);

    assertThat(run.passed).as("%s", run).isEmpty();
    assertThat(run.failed.keySet()).as("%s", run).hasSizeGreaterThanOrEqualTo(35);
    assertThat(run.failed.values())
        .allSatisfy(
            t ->
                assertThat(t)
                    .hasMessageContaining(
                        "newEmptyStorage() returned null: return the storage under test"));
  }
}
