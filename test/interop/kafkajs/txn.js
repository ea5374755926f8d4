// Transactions with kafkajs (InitProducerId v1, AddPartitionsToTxn v1,
// AddOffsetsToTxn v1, TxnOffsetCommit v1, EndTxn v1, Fetch read_committed)
// against a broker: three transactions (commit, abort, commit), the first
// also committing an offset for group js-offsets, then one read_committed
// and one read_uncommitted consumer. Prints one line to stdout:
//   RESULT {"committed":[...],"uncommitted":[...]}
// Usage: node txn.js host:port topic
const { Kafka, logLevel } = require('kafkajs');

const [broker, topic] = process.argv.slice(2);
const kafka = new Kafka({ clientId: 'basket-interop', brokers: [broker], logLevel: process.env.KAFKAJS_DEBUG ? logLevel.DEBUG : logLevel.ERROR,
  retry: { initialRetryTime: 100, retries: 10 } });

async function produce() {
  const producer = kafka.producer({ transactionalId: 'js-txn', idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  const plan = [['c1', true], ['a2', false], ['c3', true]];
  for (const [tag, commit] of plan) {
    const txn = await producer.transaction();
    await txn.send({ topic, messages: [0, 1, 2].map((i) => ({ value: `${tag}-${i}`, partition: i % 2 })) });
    if (tag === 'c1') {
      await txn.sendOffsets({ consumerGroupId: 'js-offsets', topics: [{ topic, partitions: [{ partition: 0, offset: '3' }] }] });
    }
    if (commit) {
      await txn.commit();
    } else {
      await txn.abort();
    }
  }
  await producer.disconnect();
}

async function consume(groupId, readUncommitted, want) {
  const consumer = kafka.consumer({ groupId, readUncommitted, maxWaitTimeInMs: 100, sessionTimeout: 6000, heartbeatInterval: 500 });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  const seen = [];
  await new Promise((resolve, reject) => {
    const timer = setTimeout(() => resolve(), 20000);
    consumer.run({
      eachMessage: async ({ message }) => {
        seen.push(message.value.toString());
        if (seen.length >= want) {
          clearTimeout(timer);
          // a little longer, for records that should not be there
          setTimeout(resolve, 500);
        }
      },
    }).catch(reject);
  });
  await consumer.disconnect();
  return seen.sort();
}

(async () => {
  await produce();
  const committed = await consume('js-committed', false, 6);
  const uncommitted = await consume('js-uncommitted', true, 9);
  process.stdout.write(`RESULT ${JSON.stringify({ committed, uncommitted })}\n`);
})().catch((err) => {
  process.stderr.write(`kafkajs: ${err.stack || err}\n`);
  process.exit(1);
});
