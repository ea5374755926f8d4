// kafkajs (2.2.4) against a Basket broker, driven by the Go tests in
// internal/server/kafkajs_test.go: the admin client, the idempotent
// producer and consumer groups, each scenario used as an application would.
// A scenario prints what it observed as one line on stdout:
//   RESULT {json}
// and the Go test decides whether that is right (and cross-checks the broker
// with franz-go). Errors a scenario expects are caught and reported by type;
// anything else ends the script with a stack on stderr and exit status 1.
//
// Usage:
//   node clients.js admin   host:port BASE_TIMESTAMP_MS
//   node clients.js produce host:port TOPIC none|gzip COUNT
//   node clients.js group   host:port TOPIC GROUP TOTAL
//   node clients.js resume  host:port TOPIC GROUP COUNT
// KAFKAJS_DEBUG=1 logs the client's debug output on stderr.
const { Kafka, logLevel, CompressionTypes, ConfigResourceTypes, AssignerProtocol } = require('kafkajs');

const [command, broker, ...args] = process.argv.slice(2);
const kafka = new Kafka({
  clientId: 'basket-interop',
  brokers: [broker],
  logLevel: process.env.KAFKAJS_DEBUG ? logLevel.DEBUG : logLevel.NOTHING,
  retry: { initialRetryTime: 100, retries: 10 },
});

// How long a scenario waits for what the broker should do soon; the Go
// test's own timeout is longer.
const DEADLINE_MS = 40000;

// Consumer settings that keep rebalances short: members notice one within a
// heartbeat, and fetches return quickly when there is nothing to read.
const GROUP_SETTINGS = { sessionTimeout: 6000, heartbeatInterval: 200, maxWaitTimeInMs: 100 };

function result(obj) {
  process.stdout.write(`RESULT ${JSON.stringify(obj)}\n`);
}

// errorOf runs fn and returns the error it threw as {name, type, types}
// (types: the broker's error types when the client aggregated several), or
// null if it threw none.
async function errorOf(fn) {
  try {
    await fn();
  } catch (e) {
    const nested = e.errors || e.groups || e.partitions || [];
    const cause = e.cause || {};
    return { name: e.name, type: e.type || cause.type || null, types: nested.map((n) => n.type || (n.error && n.error.type) || null) };
  }
  return null;
}

// loadRetries counts the answers "coordinator loading" that whileLoading
// retried, reported for the log.
let loadRetries = 0;

// whileLoading runs fn again while it fails with error 14
// (COORDINATOR_LOAD_IN_PROGRESS, kafkajs's GROUP_LOAD_IN_PROGRESS), which
// ListGroups answers, against Kafka as well, while any partition of
// __consumer_offsets is still loading, as they are right after the first
// group created the topic. kafkajs's listGroups does not retry it.
async function whileLoading(fn) {
  for (let tries = 0; ; tries++) {
    try {
      return await fn();
    } catch (e) {
      if (e.type !== 'GROUP_LOAD_IN_PROGRESS' || tries >= 50) {
        throw e;
      }
      loadRetries++;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
}

function hex(buf) {
  return buf == null ? null : Buffer.from(buf).toString('hex');
}

function deadline(what) {
  let timer;
  const p = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out: ${what}`)), DEADLINE_MS);
  });
  return { promise: p, cancel: () => clearTimeout(timer) };
}

function configsOf({ resources }) {
  const out = {};
  for (const r of resources) {
    out[r.resourceName] = r.errorCode
      ? { error: r.errorCode }
      : Object.fromEntries(r.configEntries.map((c) => [c.configName, [c.configValue, c.configSource, c.readOnly]]));
  }
  return out;
}

async function admin(base) {
  const out = {};
  const adm = kafka.admin();
  await adm.connect();

  // ListGroups before any group exists (no __consumer_offsets yet).
  out.groupsBefore = (await adm.listGroups()).groups.map((g) => g.groupId);

  out.create = await adm.createTopics({
    topics: [
      { topic: 'js-admin', numPartitions: 3, replicationFactor: 1,
        configEntries: [{ name: 'retention.ms', value: '3600000' }, { name: 'max.message.bytes', value: '200000' }] },
      { topic: 'js-admin-2', numPartitions: 1, replicationFactor: 1 },
    ],
  });
  out.createExisting = await adm.createTopics({ topics: [{ topic: 'js-admin-2', numPartitions: 1 }] });
  out.createInvalid = await errorOf(() => adm.createTopics({ topics: [{ topic: 'js/invalid', numPartitions: 1 }] }));
  // Without waitForLeaders: there is no topic whose leaders to wait for.
  out.createValidateOnly = await adm.createTopics({ validateOnly: true, waitForLeaders: false,
    topics: [{ topic: 'js-admin-validated', numPartitions: 2 }] });
  out.createInvalidValidateOnly = await errorOf(() => adm.createTopics({ validateOnly: true, waitForLeaders: false,
    topics: [{ topic: 'js/invalid', numPartitions: 1 }] }));
  out.topics = (await adm.listTopics()).sort();

  out.metadata = (await adm.fetchTopicMetadata({ topics: ['js-admin', 'js-admin-2'] })).topics.map((t) => ({
    name: t.name,
    partitions: t.partitions
      .map((p) => [p.partitionId, p.leader, p.replicas, p.isr, p.partitionErrorCode])
      .sort((a, b) => a[0] - b[0]),
  })).sort((a, b) => a.name.localeCompare(b.name));

  out.configsCreated = configsOf(await adm.describeConfigs({ resources: [{ type: ConfigResourceTypes.TOPIC, name: 'js-admin' }] }));
  out.configsBroker = configsOf(await adm.describeConfigs({ resources: [
    { type: ConfigResourceTypes.BROKER, name: '1', configNames: ['num.partitions', 'log.retention.hours'] }] }));
  // AlterConfigs replaces the topic's whole set of configs: max.message.bytes
  // goes back to its default. validateOnly changes nothing.
  out.alter = (await adm.alterConfigs({ resources: [{ type: ConfigResourceTypes.TOPIC, name: 'js-admin',
    configEntries: [{ name: 'retention.ms', value: '7200000' }] }] })).resources.map((r) => [r.resourceName, r.errorCode]);
  out.alterValidateOnly = (await adm.alterConfigs({ validateOnly: true, resources: [{ type: ConfigResourceTypes.TOPIC,
    name: 'js-admin', configEntries: [{ name: 'retention.ms', value: '1000' }] }] })).resources.map((r) => [r.resourceName, r.errorCode]);
  out.alterUnknown = await errorOf(() => adm.alterConfigs({ resources: [{ type: ConfigResourceTypes.TOPIC, name: 'js-admin',
    configEntries: [{ name: 'no.such.config', value: '1' }] }] }));
  out.configsAltered = configsOf(await adm.describeConfigs({ resources: [
    { type: ConfigResourceTypes.TOPIC, name: 'js-admin', configNames: ['retention.ms', 'max.message.bytes'] }] }));

  await adm.createPartitions({ topicPartitions: [{ topic: 'js-admin', count: 5 }] });
  await adm.createPartitions({ validateOnly: true, topicPartitions: [{ topic: 'js-admin', count: 8 }] });
  out.partitionsShrink = await errorOf(() => adm.createPartitions({ topicPartitions: [{ topic: 'js-admin', count: 2 }] }));
  out.partitionsAfter = (await adm.fetchTopicMetadata({ topics: ['js-admin'] })).topics[0].partitions.length;

  // Ten records a second apart in partitions 0 and 1; partition 1 then
  // starts at offset 2.
  const producer = kafka.producer();
  await producer.connect();
  for (const partition of [0, 1]) {
    await producer.send({ topic: 'js-admin', acks: -1, messages: [...Array(10).keys()].map((i) => ({
      partition, value: `r-${partition}-${i}`, timestamp: String(base + i * 1000) })) });
  }
  await producer.disconnect();
  const offsets = (list) => list.map((p) => [p.partition, Number(p.low), Number(p.high)]).sort((a, b) => a[0] - b[0]);
  out.offsetsBeforeDelete = offsets(await adm.fetchTopicOffsets('js-admin'));
  await adm.deleteTopicRecords({ topic: 'js-admin', partitions: [{ partition: 1, offset: '2' }] });
  out.offsetsAfterDelete = offsets(await adm.fetchTopicOffsets('js-admin'));
  out.offsetsByTimestamp = (await adm.fetchTopicOffsetsByTimestamp('js-admin', base + 4500))
    .map((p) => [p.partition, Number(p.offset)]).sort((a, b) => a[0] - b[0]);
  out.offsetsByFutureTimestamp = (await adm.fetchTopicOffsetsByTimestamp('js-admin', Date.now() + 3600 * 1000))
    .map((p) => [p.partition, Number(p.offset)]).sort((a, b) => a[0] - b[0]);

  out.group = await adminGroups(adm);

  await adm.deleteTopics({ topics: ['js-admin-2'] });
  // kafkajs retries UNKNOWN_TOPIC_OR_PARTITION here (metadata may lag a
  // creation); one try is enough to see the error.
  const once = kafka.admin({ retry: { retries: 0 } });
  await once.connect();
  out.deleteUnknown = await errorOf(() => once.deleteTopics({ topics: ['js-admin-missing'] }));
  await once.disconnect();
  out.topicsAfterDelete = (await adm.listTopics()).sort();
  await adm.disconnect();
  out.loadRetries = loadRetries;
  result(out);
}

// adminGroups: a live member of js-admin-live is listed and described; the
// offsets of js-admin-group are set, read, reset and the group deleted.
// (setOffsets and resetOffsets take five seconds each: their consumer,
// its topic paused, sleeps its default maxWaitTimeInMs before it stops.)
async function adminGroups(adm) {
  const out = {};
  // kafkajs's consumer gives up on a JoinGroup answered "loading" (error 14,
  // which it names GROUP_LOAD_IN_PROGRESS but retries only under the name
  // COORDINATOR_LOAD_IN_PROGRESS), as the coordinators are right after the
  // first group creates __consumer_offsets; describeGroups retries it, so
  // once it answers the coordinators of both groups are up.
  await adm.describeGroups(['js-admin-live', 'js-admin-group']);
  const consumer = kafka.consumer({ groupId: 'js-admin-live', ...GROUP_SETTINGS });
  await consumer.connect();
  await consumer.subscribe({ topic: 'js-admin' });
  const joined = new Promise((resolve) => consumer.on(consumer.events.GROUP_JOIN, resolve));
  const d = deadline('js-admin-live joining');
  await consumer.run({ eachMessage: async () => {} });
  await Promise.race([joined, d.promise]);
  d.cancel();
  out.listed = (await whileLoading(() => adm.listGroups())).groups.map((g) => [g.groupId, g.protocolType]).sort();
  out.describeLive = describeGroup((await adm.describeGroups(['js-admin-live'])).groups[0]);
  await consumer.disconnect();
  out.describeEmpty = describeGroup((await adm.describeGroups(['js-admin-live'])).groups[0]);

  const group = 'js-admin-group';
  const fetched = async () => (await adm.fetchOffsets({ groupId: group, topics: ['js-admin'] }))[0].partitions
    .map((p) => [p.partition, Number(p.offset), p.metadata]).sort((a, b) => a[0] - b[0]);
  await adm.setOffsets({ groupId: group, topic: 'js-admin', partitions: [{ partition: 0, offset: '7' }, { partition: 1, offset: '4' }] });
  out.offsetsSet = await fetched();
  await adm.resetOffsets({ groupId: group, topic: 'js-admin', earliest: true });
  out.offsetsReset = await fetched();

  out.delete = (await adm.deleteGroups([group, 'js-admin-live'])).map((r) => [r.groupId, r.errorCode]).sort();
  out.deleteMissing = await errorOf(() => adm.deleteGroups(['js-admin-missing']));
  out.listedAfterDelete = (await whileLoading(() => adm.listGroups())).groups.map((g) => g.groupId);
  return out;
}

function describeGroup(g) {
  return {
    errorCode: g.errorCode, groupId: g.groupId, state: g.state, protocolType: g.protocolType, protocol: g.protocol,
    members: g.members.map((m) => ({
      clientId: m.clientId,
      clientHost: m.clientHost,
      subscription: AssignerProtocol.MemberMetadata.decode(m.memberMetadata).topics,
      assignment: AssignerProtocol.MemberAssignment.decode(m.memberAssignment).assignment,
    })),
  };
}

// produce sends count records to the two partitions of topic with an
// idempotent producer, acks -1, in sends of ten; each record's offset is its
// partition's base offset in that send's metadata plus its index there.
async function produce(topic, codec, count) {
  const compression = { none: CompressionTypes.None, gzip: CompressionTypes.GZIP }[codec];
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  const sent = [];
  for (let start = 0; start < count; start += 10) {
    const messages = [];
    const records = [];
    for (let i = start; i < Math.min(start + 10, count); i++) {
      const key = i % 10 === 9 ? null : Buffer.from(`key-${i % 7}`);
      const value = Buffer.concat([Buffer.from(`value ${i} ${'basket '.repeat(8)}`), Buffer.from([i % 256, 0, 255])]);
      const headers = i % 5 === 4 ? {} : { n: Buffer.from(String(i)), codec: Buffer.from(codec) };
      messages.push({ partition: i % 2, key, value, headers });
      records.push({ key: hex(key), value: hex(value), headers: Object.entries(headers).map(([k, v]) => [k, hex(v)]), partition: i % 2 });
    }
    const metadata = await producer.send({ topic, acks: -1, compression, messages });
    for (const partition of [0, 1]) {
      const md = metadata.find((m) => m.partition === partition);
      let offset = Number(md.baseOffset);
      for (const r of records.filter((r) => r.partition === partition)) {
        r.offset = offset++;
      }
    }
    sent.push(...records);
  }
  await producer.disconnect();
  result({ records: sent });
}

// group runs two consumers in one group until they have read total records
// between them. A member assigned every partition (it is alone) pauses the
// topic until the other is in, so the two split it and no record is read
// twice. Each processed batch is committed (autoCommitThreshold 1), and
// kafkajs commits what it processed when a heartbeat finds a rebalance.
async function group(topic, groupId, total) {
  const adm = kafka.admin();
  await adm.connect();
  const partitions = (await adm.fetchTopicMetadata({ topics: [topic] })).topics[0].partitions.length;
  await adm.disconnect();

  let consumed = 0;
  let done;
  const allRead = new Promise((resolve) => { done = resolve; });
  const members = [0, 1].map(() => ({ records: [], assignments: [], errors: [] }));
  const consumers = members.map((state) => {
    const consumer = kafka.consumer({ groupId, ...GROUP_SETTINGS });
    consumer.on(consumer.events.GROUP_JOIN, ({ payload }) => {
      const assigned = (payload.memberAssignment[topic] || []).slice().sort((a, b) => a - b);
      state.assignments.push(assigned);
      if (assigned.length === partitions) {
        consumer.pause([{ topic }]);
      } else {
        consumer.resume([{ topic }]);
      }
    });
    consumer.on(consumer.events.CRASH, ({ payload }) => state.errors.push(String(payload.error)));
    return consumer;
  });
  await Promise.all(consumers.map(async (consumer, n) => {
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    await consumer.run({
      autoCommitThreshold: 1,
      eachMessage: async ({ partition, message }) => {
        members[n].records.push([partition, Number(message.offset), message.value.toString()]);
        if (++consumed >= total) {
          done();
        }
      },
    });
  }));
  const d = deadline(`reading ${total} records`);
  await Promise.race([allRead, d.promise]).catch((e) => members[0].errors.push(`${e.message}: ${consumed} read`));
  d.cancel();
  members.forEach((state) => {
    state.final_assignment = state.assignments.length ? state.assignments[state.assignments.length - 1] : [];
  });
  await Promise.all(consumers.map((c) => c.disconnect()));
  result({ members });
}

// resume: a new member of the group reads count records from where the
// group's committed offsets point, commits and leaves.
async function resume(topic, groupId, count) {
  const consumer = kafka.consumer({ groupId, ...GROUP_SETTINGS });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  const records = [];
  let done;
  const allRead = new Promise((resolve) => { done = resolve; });
  await consumer.run({
    autoCommitThreshold: 1,
    eachMessage: async ({ partition, message }) => {
      records.push([partition, Number(message.offset), message.value.toString()]);
      if (records.length >= count) {
        done();
      }
    },
  });
  const d = deadline(`reading ${count} records`);
  await Promise.race([allRead, d.promise]);
  d.cancel();
  await consumer.disconnect();
  result({ records });
}

(async () => {
  switch (command) {
    case 'admin': return admin(Number(args[0]));
    case 'produce': return produce(args[0], args[1], Number(args[2]));
    case 'group': return group(args[0], args[1], Number(args[2]));
    case 'resume': return resume(args[0], args[1], Number(args[2]));
    default: throw new Error(`unknown command ${command}`);
  }
})().catch((err) => {
  process.stderr.write(`kafkajs: ${err.stack || err}\n`);
  process.exit(1);
});
