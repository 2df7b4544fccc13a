package dev.outbox.testkit;

import static org.assertj.core.api.Assertions.assertThat;

import dev.outbox.Publisher;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The publisher contract catches what it targets: each deliberately broken publisher of {@link
 * BrokenPublishers} fails the contract test(s) of its rule, with a message naming the rule, and
 * nothing is skipped. Publishers whose every read waits the read-your-writes timeout (2 s) run only
 * the tests that matter, to keep this class quick.
 */
class PublisherContractCatchesBrokenPublishersTest {

  private static final String READ_RULE =
      "a publisher must return only once the broker holds every message it reports as sent";

  private static void caught(ContractRun run, Class<?> broken, Map<String, String> ruleByTest) {
    System.out.println(broken.getSimpleName() + ": " + run);
    assertThat(run.skipped).as("%s: nothing skipped", broken.getSimpleName()).isEmpty();
    ruleByTest.forEach(
        (test, rule) ->
            assertThat(run.message(test))
                .as("%s must fail %s naming the rule; %s", broken.getSimpleName(), test, run)
                .isNotNull()
                .contains(rule));
  }

  @Test
  void recordingPublisherPassesEveryTestWithNothingSkipped() {
    ContractRun run = ContractRun.of(RecordingPublisherTest.class);

    assertThat(run.failed).as("%s", run).isEmpty();
    assertThat(run.skipped).as("%s", run).isEmpty();
    assertThat(run.passed).hasSizeGreaterThanOrEqualTo(10);
  }

  @Test
  void emptyPayloadsDropped() {
    Class<?> c = BrokenPublishers.DropsEmptyPayloads.class;
    caught(
        ContractRun.of(c, "emptyPayloadsAndNullOrEmptyKeysArriveExactly"),
        c,
        Map.of("emptyPayloadsAndNullOrEmptyKeysArriveExactly", READ_RULE));
  }

  @Test
  void largePayloadsDropped() {
    Class<?> c = BrokenPublishers.DropsLargePayloads.class;
    caught(
        ContractRun.of(c, "theLargestDeliverablePayloadArrivesWhole"),
        c,
        Map.of("theLargestDeliverablePayloadArrivesWhole", READ_RULE));
  }

  @Test
  void nullKeysSentAsEmpty() {
    Class<?> c = BrokenPublishers.NullKeyBecomesEmpty.class;
    caught(
        ContractRun.of(c),
        c,
        Map.of(
            "emptyPayloadsAndNullOrEmptyKeysArriveExactly",
            "null and empty keys are different values"));
  }

  @Test
  void headerNamesLowerCased() {
    Class<?> c = BrokenPublishers.LowerCasesHeaderNames.class;
    caught(
        ContractRun.of(c),
        c,
        Map.of(
            "everyEntryOfABatchArrivesWithPayloadHeadersAndMessageId",
            "a publisher must deliver header names and values exactly"));
  }

  @Test
  void sizeLimitFailuresMarkedRetryable() {
    Class<?> c = BrokenPublishers.SizeLimitFailureIsRetryable.class;
    caught(
        ContractRun.of(c),
        c,
        Map.of(
            "anEntryOverTheSizeLimitIsRefusedAndFailsPermanentlyAlone",
            "a size-limit failure is permanent",
            "aPartialFailureNamesExactlyTheFailedEntriesAndSendsTheRest",
            "a publisher must classify its failures as it declares"));
  }

  @Test
  void returnsBeforeTheBrokerHoldsTheMessages() {
    Class<?> c = BrokenPublishers.ReturnsBeforeDelivering.class;
    caught(
        ContractRun.of(c, "publishReturnsOnlyOnceTheBrokerHoldsEveryMessage"),
        c,
        Map.of(
            "publishReturnsOnlyOnceTheBrokerHoldsEveryMessage",
            READ_RULE
                + ", and must not lose or drop any, but 10 of 10 messages were not readable"));
  }

  @Test
  void aLostMessageFailsWithinSecondsNotTwenty() {
    Class<?> c = BrokenPublishers.LosesMessages.class;
    ContractRun run =
        ContractRun.of(
            c,
            "everyEntryOfABatchArrivesWithPayloadHeadersAndMessageId",
            "publishReturnsOnlyOnceTheBrokerHoldsEveryMessage");
    caught(
        run,
        c,
        Map.of(
            "everyEntryOfABatchArrivesWithPayloadHeadersAndMessageId",
            READ_RULE + ", and must not lose or drop any, but 1 of 7 messages",
            "publishReturnsOnlyOnceTheBrokerHoldsEveryMessage",
            "1 of 10 messages were not readable"));
    assertThat(run.durations.values())
        .as("a lost message fails within a few seconds")
        .allSatisfy(d -> assertThat(d).isLessThan(Duration.ofSeconds(5)));
  }

  @Test
  void keysReorderedWithinACall() {
    Class<?> c = BrokenPublishers.ReversesEachCall.class;
    caught(
        ContractRun.of(c, "aKeysEntriesOfOneCallArriveInListOrder"),
        c,
        Map.of(
            "aKeysEntriesOfOneCallArriveInListOrder",
            "a publisher whose keepsOrder() is true must deliver a key's entries (same namespace"
                + " and key) of one call in list order"));
  }

  @Test
  void laterEntriesSentPastAFailedOne() {
    Class<?> c = BrokenPublishers.SendsPastAFailure.class;
    String rule =
        "a publisher whose keepsOrder() is true must, once an entry of a key fails in a call, fail"
            + " every later entry of that key in the call";
    caught(
        ContractRun.of(
            c,
            "whenAKeysEntryFailsRetryablyItsLaterEntriesFailRetryablyAndDoNotArrive",
            "whenAKeysEntryFailsForGoodItsLaterEntriesFailRetryablyAndDoNotArrive",
            "aKeysEntriesOfOneCallArriveInListOrder"),
        c,
        Map.of(
            "whenAKeysEntryFailsRetryablyItsLaterEntriesFailRetryablyAndDoNotArrive", rule,
            "whenAKeysEntryFailsForGoodItsLaterEntriesFailRetryablyAndDoNotArrive", rule));
  }

  @Test
  void aPublisherThatKeepsOrderMustSayHowToFailIt() {
    ContractRun run =
        ContractRun.of(
            NoFailureHook.class,
            "whenAKeysEntryFailsRetryablyItsLaterEntriesFailRetryablyAndDoNotArrive");

    assertThat(
            run.message("whenAKeysEntryFailsRetryablyItsLaterEntriesFailRetryablyAndDoNotArrive"))
        .as("%s", run)
        .contains("override retryablyFailing(Message)");
  }

  /** A correct order-keeping publisher whose test forgot the failure hook. */
  static class NoFailureHook extends OrderedPublisherContract {
    private final RecordingPublisher broker =
        new RecordingPublisher().maxMessageBytes(RecordingPublisherTest.LIMIT).keepsOrder(true);

    @Override
    protected Publisher publisher() {
      return broker;
    }

    @Override
    protected List<ReceivedMessage> received(String namespace, int atLeast, Duration timeout) {
      return RecordingPublisherTest.received(broker, namespace, atLeast, timeout);
    }
  }

  @Test
  void aNullPublisherSaysWhatToReturn() {
    ContractRun run = ContractRun.of(BrokenPublishers.NullPublisher.class);

    assertThat(run.passed).as("%s", run).isEmpty();
    assertThat(run.failed.values())
        .as("%s", run)
        .allSatisfy(
            t ->
                assertThat(t)
                    .hasMessageContaining(
                        "publisher() returned null: return the publisher under test"));
  }
}
