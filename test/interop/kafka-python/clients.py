"""kafka-python (2.0.2) against a Basket broker, driven by the Go tests in
internal/server/kafkapython_test.go.

Each subcommand runs one scenario with the client's own API, as an
application would, and prints what it observed as one line on stdout:

    RESULT {json}

The Go test decides whether that is right (and cross-checks the broker with
franz-go). Errors the scenario expects are caught and reported by name and
code; anything else is a traceback on stderr and exit status 1.

Usage:
    clients.py admin    BROKER
    clients.py produce  BROKER TOPIC CODEC COUNT
    clients.py group    BROKER TOPIC GROUP TOTAL
    clients.py resume   BROKER TOPIC GROUP COUNT
    clients.py assign   BROKER TOPIC GROUP TIMESTAMP

Run it with Debian's /usr/bin/python3 (python3-kafka, and python3-snappy,
python3-lz4, python3-zstandard for the codecs). Set KAFKA_PYTHON_DEBUG=1
for the client's debug log on stderr.
"""

import json
import logging
import os
import sys
import threading
import time

from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer, TopicPartition
from kafka.admin import ConfigResource, ConfigResourceType, NewPartitions, NewTopic
from kafka.consumer.subscription_state import ConsumerRebalanceListener
from kafka.errors import GroupLoadInProgressError, KafkaError
from kafka.structs import OffsetAndMetadata

# How long a scenario waits for something the broker should do soon
# (an assignment, a record) before it gives up; the Go test's own timeout
# is longer.
DEADLINE_SECONDS = 40

# Consumer settings that keep a group's rebalances short: members notice a
# rebalance within a heartbeat, and fetches return quickly when there is
# nothing to read.
GROUP_SETTINGS = dict(
    session_timeout_ms=6000,
    heartbeat_interval_ms=200,
    fetch_max_wait_ms=100,
    enable_auto_commit=False,
    auto_offset_reset='earliest',
)


def result(obj):
    sys.stdout.write('RESULT ' + json.dumps(obj, sort_keys=True) + '\n')
    sys.stdout.flush()


def error_of(fn):
    """Runs fn and returns the Kafka error it raised as {name, code}, or
    {name: None, code: 0} if it raised none."""
    try:
        fn()
    except KafkaError as e:
        return {'name': type(e).__name__, 'code': getattr(e, 'errno', -1)}
    return {'name': None, 'code': 0}


def error_codes(response, field):
    """The error codes of a CreateTopics/DeleteTopics/CreatePartitions
    response, by topic."""
    return {entry[0]: entry[1] for entry in getattr(response, field)}


def configs_of(responses):
    """DescribeConfigs responses as {resource name: {config: [value, source,
    read_only]}}; a resource with an error maps to {'error': code}."""
    out = {}
    for response in responses:
        for res in response.resources:
            error_code, _msg, _rtype, name, entries = res[:5]
            if error_code:
                out[name] = {'error': error_code}
                continue
            # v0 entries: name, value, read_only, is_default, is_sensitive;
            # v1 and later: name, value, read_only, config_source,
            # is_sensitive, synonyms.
            out[name] = {e[0]: [e[1], e[3] if response.API_VERSION >= 1 else None, e[2]] for e in entries}
    return out


# The answers "coordinator loading" that while_loading retried, reported
# for the log.
load_retries = [0]


def while_loading(fn):
    """Runs fn again while it raises error 14 (COORDINATOR_LOAD_IN_PROGRESS,
    kafka-python's GroupLoadInProgressError), which ListGroups answers,
    against Kafka as well, while any partition of __consumer_offsets is
    still loading, as they are right after the first group created the
    topic. The admin client raises it without retrying."""
    for _ in range(50):
        try:
            return fn()
        except GroupLoadInProgressError:
            load_retries[0] += 1
            time.sleep(0.1)
    return fn()


def wait_assigned(consumer, what):
    deadline = time.time() + DEADLINE_SECONDS
    while not consumer.assignment():
        if time.time() > deadline:
            raise RuntimeError('no assignment for ' + what)
        consumer.poll(timeout_ms=100)
    return consumer.assignment()


def admin(broker):
    out = {}
    adm = KafkaAdminClient(bootstrap_servers=broker, client_id='py-admin')
    out['api_version'] = list(adm.config['api_version'])

    # ListGroups before any group exists (no __consumer_offsets yet).
    out['groups_before'] = sorted(g[0] for g in adm.list_consumer_groups())

    resp = adm.create_topics([
        NewTopic('py-admin', 3, 1, topic_configs={'retention.ms': '3600000', 'max.message.bytes': '200000'}),
        NewTopic('py-admin-2', 1, 1),
    ])
    out['create'] = error_codes(resp, 'topic_errors')
    out['create_invalid'] = error_of(lambda: adm.create_topics([NewTopic('py/invalid', 1, 1)]))
    out['create_existing'] = error_of(lambda: adm.create_topics([NewTopic('py-admin-2', 1, 1)]))
    out['create_validate_only'] = error_codes(
        adm.create_topics([NewTopic('py-admin-validated', 2, 1)], validate_only=True), 'topic_errors')
    out['create_invalid_validate_only'] = error_of(
        lambda: adm.create_topics([NewTopic('py/invalid', 1, 1)], validate_only=True))

    out['topics'] = sorted(adm.list_topics())
    out['describe_topics'] = [
        {'topic': t['topic'], 'error': t['error_code'], 'internal': t['is_internal'],
         'partitions': sorted([p['partition'], p['leader'], p['replicas'], p['isr'], p['error_code']]
                              for p in t['partitions'])}
        for t in adm.describe_topics(['py-admin', 'py-admin-2'])
    ]

    out['configs_created'] = configs_of(adm.describe_configs(
        [ConfigResource(ConfigResourceType.TOPIC, 'py-admin')]))
    out['configs_broker'] = configs_of(adm.describe_configs(
        [ConfigResource(ConfigResourceType.BROKER, '1', configs={'num.partitions': None, 'log.retention.hours': None})]))
    # AlterConfigs replaces the topic's whole set of configs: max.message.bytes
    # goes back to its default.
    resp = adm.alter_configs([ConfigResource(ConfigResourceType.TOPIC, 'py-admin', configs={'retention.ms': '7200000'})])
    out['alter'] = {r[3]: r[0] for r in resp.resources}
    resp = adm.alter_configs([ConfigResource(ConfigResourceType.TOPIC, 'py-admin', configs={'no.such.config': '1'})])
    out['alter_unknown'] = {r[3]: r[0] for r in resp.resources}
    out['configs_altered'] = configs_of(adm.describe_configs(
        [ConfigResource(ConfigResourceType.TOPIC, 'py-admin', configs={'retention.ms': None, 'max.message.bytes': None})]))

    out['partitions_grow'] = error_codes(adm.create_partitions({'py-admin': NewPartitions(5)}), 'topic_errors')
    out['partitions_validate_only'] = error_codes(
        adm.create_partitions({'py-admin': NewPartitions(8)}, validate_only=True), 'topic_errors')
    out['partitions_shrink'] = error_of(lambda: adm.create_partitions({'py-admin': NewPartitions(2)}))
    out['partitions_after'] = len(adm.describe_topics(['py-admin'])[0]['partitions'])

    out['group'] = admin_group(adm, broker)

    out['delete'] = error_codes(adm.delete_topics(['py-admin-2']), 'topic_error_codes')
    out['delete_unknown'] = error_of(lambda: adm.delete_topics(['py-admin-missing']))
    out['topics_after_delete'] = sorted(adm.list_topics())
    adm.close()
    out['load_retries'] = load_retries[0]
    result(out)


def admin_group(adm, broker):
    """One live member in group py-admin-group commits offsets; the admin
    client lists, describes, reads the offsets of and deletes the group."""
    out = {}
    group = 'py-admin-group'
    consumer = KafkaConsumer('py-admin', bootstrap_servers=broker, group_id=group,
                             client_id='py-admin-member', **GROUP_SETTINGS)
    assigned = wait_assigned(consumer, group)
    consumer.commit({tp: OffsetAndMetadata(tp.partition + 1, 'meta-%d' % tp.partition) for tp in assigned})

    out['listed'] = sorted([g[0], g[1]] for g in while_loading(adm.list_consumer_groups) if g[0] == group)
    out['describe_live'] = describe_group(adm, group)
    offsets = adm.list_consumer_group_offsets(group)
    out['offsets'] = sorted([tp.topic, tp.partition, o.offset, o.metadata] for tp, o in offsets.items())
    consumer.close()

    out['describe_empty'] = describe_group(adm, group)
    out['delete'] = sorted([g, e.__name__] for g, e in adm.delete_consumer_groups([group, 'py-admin-missing']))
    out['listed_after_delete'] = sorted(g[0] for g in while_loading(adm.list_consumer_groups))
    return out


def describe_group(adm, group):
    d = adm.describe_consumer_groups([group])[0]
    members = []
    for m in d.members:
        assignment = []
        if m.member_assignment:
            assignment = sorted([t, sorted(ps)] for t, ps in m.member_assignment.assignment)
        topics = list(m.member_metadata.subscription) if m.member_metadata else []
        members.append({'client_id': m.client_id, 'assignment': assignment, 'subscription': topics})
    return {'error': d.error_code, 'group': d.group, 'state': d.state,
            'protocol_type': d.protocol_type, 'protocol': d.protocol, 'members': members}


def produce(broker, topic, codec, count):
    codec = None if codec == 'none' else codec
    producer = KafkaProducer(bootstrap_servers=broker, acks='all', compression_type=codec,
                             linger_ms=100, client_id='py-producer')
    sent = []
    futures = []
    for i in range(count):
        key = None if i % 10 == 9 else b'key-%03d' % (i % 7)
        value = b'value %04d ' % i + b'basket ' * 8 + bytes([i % 256, 0, 255])
        headers = [] if i % 5 == 4 else [('n', b'%d' % i), ('codec', str(codec).encode())]
        futures.append(producer.send(topic, key=key, value=value, headers=headers))
        sent.append({'key': key.hex() if key is not None else None, 'value': value.hex(),
                     'headers': [[k, v.hex()] for k, v in headers]})
    producer.flush()
    for rec, fut in zip(sent, futures):
        md = fut.get(timeout=DEADLINE_SECONDS)
        rec['partition'], rec['offset'] = md.partition, md.offset
    producer.close()
    result({'records': sent})


class CommitOnRevoke(ConsumerRebalanceListener):
    """Commits what the consumer has consumed before its partitions are
    taken away, and pauses an assignment of every partition (the member is
    alone in the group), so that nothing is read until the other member is
    in: the members then split the topic and no record is read twice."""

    def __init__(self, state, partitions):
        self.state = state
        self.partitions = partitions

    def on_partitions_revoked(self, revoked):
        try:
            if revoked:
                self.state['consumer'].commit()
        except Exception as e:  # the consumer logs and swallows it
            self.state['errors'].append('commit on revoke: %r' % e)

    def on_partitions_assigned(self, assigned):
        self.state['assignments'].append(sorted(tp.partition for tp in assigned))
        if len(assigned) == self.partitions:
            self.state['consumer'].pause(*assigned)


def group(broker, topic, group_id, total):
    """Two consumers in one group read the topic until they have read total
    records between them, commit, and leave."""
    probe = KafkaConsumer(bootstrap_servers=broker)
    partitions = len(probe.partitions_for_topic(topic))
    probe.close()

    lock = threading.Lock()
    consumed = []
    states = [{'records': [], 'assignments': [], 'errors': []} for _ in range(2)]
    started = threading.Barrier(2)
    finished = threading.Barrier(2)

    def member(n):
        state = states[n]
        try:
            consumer = KafkaConsumer(bootstrap_servers=broker, group_id=group_id,
                                     client_id='py-member-%d' % n, **GROUP_SETTINGS)
            state['consumer'] = consumer
            consumer.subscribe([topic], listener=CommitOnRevoke(state, partitions))
            started.wait()
            deadline = time.time() + DEADLINE_SECONDS
            while True:
                with lock:
                    if len(consumed) >= total:
                        break
                if time.time() > deadline:
                    raise RuntimeError('consumed %d of %d records' % (len(consumed), total))
                for tp, recs in consumer.poll(timeout_ms=200).items():
                    for r in recs:
                        state['records'].append([r.partition, r.offset, r.value.decode()])
                        with lock:
                            consumed.append(r)
            state['final_assignment'] = sorted(tp.partition for tp in consumer.assignment())
            consumer.commit()
            finished.wait()
            consumer.close()
        except Exception as e:
            state['errors'].append(repr(e))
            started.abort()
            finished.abort()
        finally:
            state.pop('consumer', None)

    threads = [threading.Thread(target=member, args=(n,)) for n in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    result({'members': states})


def resume(broker, topic, group_id, count):
    """A new member of the group reads count records from where the group's
    committed offsets point, commits and leaves."""
    consumer = KafkaConsumer(bootstrap_servers=broker, group_id=group_id,
                             client_id='py-resume', **GROUP_SETTINGS)
    consumer.subscribe([topic])
    records = []
    deadline = time.time() + DEADLINE_SECONDS
    while len(records) < count:
        if time.time() > deadline:
            raise RuntimeError('read %d of %d records' % (len(records), count))
        for tp, recs in consumer.poll(timeout_ms=200).items():
            records.extend([r.partition, r.offset, r.value.decode()] for r in recs)
    committed_before = {tp.partition: consumer.committed(tp) for tp in consumer.assignment()}
    consumer.commit()
    consumer.close()
    result({'records': records, 'committed_before': committed_before})


def assign(broker, topic, group_id, timestamp):
    """Manual assignment: offset queries by time and position, seeks, and a
    commit from a consumer outside any group generation."""
    out = {}
    consumer = KafkaConsumer(bootstrap_servers=broker, group_id=group_id, client_id='py-assign',
                             enable_auto_commit=False, fetch_max_wait_ms=100)
    parts = sorted(consumer.partitions_for_topic(topic))
    tps = [TopicPartition(topic, p) for p in parts]
    consumer.assign(tps)
    out['assignment'] = sorted(tp.partition for tp in consumer.assignment())

    def by_partition(d, f=lambda v: v):
        return {str(tp.partition): f(v) for tp, v in d.items()}

    out['beginning'] = by_partition(consumer.beginning_offsets(tps))
    out['end'] = by_partition(consumer.end_offsets(tps))
    out['for_times'] = by_partition(consumer.offsets_for_times({tp: timestamp for tp in tps}),
                                    lambda v: None if v is None else [v.offset, v.timestamp])
    out['for_times_future'] = by_partition(
        consumer.offsets_for_times({tp: int(time.time() * 1000) + 3600 * 1000 for tp in tps}),
        lambda v: None if v is None else [v.offset, v.timestamp])

    tp0 = tps[0]
    consumer.seek(tp0, 5)
    out['after_seek'] = first_records(consumer, tp0, 3)
    consumer.seek_to_beginning(*tps)
    out['position_beginning'] = {str(tp.partition): consumer.position(tp) for tp in tps}
    out['after_seek_to_beginning'] = first_records(consumer, tps[-1], 1)
    consumer.seek_to_end(tp0)
    out['position_end'] = consumer.position(tp0)
    consumer.seek(tp0, 7)
    consumer.commit({tp0: OffsetAndMetadata(7, 'assigned')})
    out['committed'] = consumer.committed(tp0)
    consumer.close()
    result(out)


def first_records(consumer, tp, n):
    """Polls until n records of tp arrive (others are dropped) and returns
    their [offset, timestamp, value]; leaves the position after them."""
    got = []
    others = [p for p in consumer.assignment() if p != tp]
    consumer.pause(*others)
    deadline = time.time() + DEADLINE_SECONDS
    while len(got) < n:
        if time.time() > deadline:
            raise RuntimeError('read %d of %d records of %s' % (len(got), n, tp))
        for r in consumer.poll(timeout_ms=200, max_records=n - len(got)).get(tp, []):
            got.append([r.offset, r.timestamp, r.value.decode()])
    consumer.resume(*others)
    return got


def main(argv):
    logging.basicConfig(level=logging.DEBUG if os.environ.get('KAFKA_PYTHON_DEBUG') else logging.ERROR,
                        stream=sys.stderr)
    cmd, args = argv[1], argv[2:]
    if cmd == 'admin':
        admin(*args)
    elif cmd == 'produce':
        produce(args[0], args[1], args[2], int(args[3]))
    elif cmd == 'group':
        group(args[0], args[1], args[2], int(args[3]))
    elif cmd == 'resume':
        resume(args[0], args[1], args[2], int(args[3]))
    elif cmd == 'assign':
        assign(args[0], args[1], args[2], int(args[3]))
    else:
        sys.exit('unknown command ' + cmd)


if __name__ == '__main__':
    main(sys.argv)
