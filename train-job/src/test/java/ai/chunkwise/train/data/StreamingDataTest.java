package ai.chunkwise.train.data;

import ai.chunkwise.pipeline.format.DatasetException;
import ai.chunkwise.pipeline.format.Manifest;
import ai.chunkwise.pipeline.packing.PackedSequence;
import ai.chunkwise.pipeline.tokenizer.TokenizerInfo;
import ai.chunkwise.train.engine.Batch;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.apache.hadoop.conf.Configuration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The streamed, shard-shuffled, resumable and mixable row order (TinyDatasets: 4 rows a shard, 2 a batch). */
class StreamingDataTest {
    private static final Configuration CONF = new Configuration();

    private static TrainingSources open(List<Path> dirs, double[] weights, long limit) {
        List<SourceSpec> specs = new ArrayList<>();
        for (int i = 0; i < dirs.size(); i++) {
            specs.add(new SourceSpec(dirs.get(i).toString(), weights[i]));
        }
        return TrainingSources.open(specs, CONF, limit, true);
    }

    private static TrainingSources open(Path dir) {
        return open(List.of(dir), new double[] {1}, 0);
    }

    /** seq_ids of {@code n} rows from {@code start}, and the position after each. */
    private static List<Long> read(TrainingSources data, long seed, boolean shuffle, int buffer, DataPosition start,
                                   int n, List<DataPosition> positions) {
        List<Long> ids = new ArrayList<>();
        try (TrainingStream s = data.stream(seed, shuffle, buffer, start)) {
            for (int i = 0; i < n; i++) {
                ids.add(s.next().seqId());
                if (positions != null) {
                    positions.add(s.position());
                }
            }
        }
        return ids;
    }

    @Test
    void everyEpochReadsEveryRowOnceInASeededOrderMixedAcrossShards(@TempDir Path tmp) {
        try (TrainingSources data = open(TinyDatasets.write(tmp.resolve("ds"), 23))) {
            List<Long> three = read(data, 7, true, 6, DataPosition.start(1), 69, null);
            Set<Long> all = new HashSet<>();
            for (long id = 100; id < 123; id++) {
                all.add(id);
            }
            for (int e = 0; e < 3; e++) {
                List<Long> epoch = three.subList(23 * e, 23 * (e + 1));
                assertEquals(all, new HashSet<>(epoch), "epoch " + e + " reads every row once");
                assertEquals(23, epoch.size());
            }
            assertNotEquals(three.subList(0, 23), three.subList(23, 46), "epochs differ");
            assertEquals(three, read(data, 7, true, 6, DataPosition.start(1), 69, null), "same seed, same order");
            assertNotEquals(three, read(data, 8, true, 6, DataPosition.start(1), 69, null), "seeds differ");
            // rows of one shard (ids 100+4k .. 103+4k) do not come out as a block: the buffer mixes shards
            List<Long> firstFour = three.subList(0, 4);
            long shardsSeen = firstFour.stream().map(id -> (id - 100) / 4).distinct().count();
            assertTrue(shardsSeen > 1 || !firstFour.equals(firstFour.stream().sorted().toList()),
                    "the first rows are not one shard in order: " + firstFour);

            List<Long> ordered = read(data, 7, false, 6, DataPosition.start(1), 25, null);
            for (int i = 0; i < 25; i++) {
                assertEquals(100L + i % 23, ordered.get(i), "no shuffle: dataset order, epoch after epoch");
            }
        }
    }

    @Test
    void resumingAtAnyPositionContinuesExactlyAsAnUninterruptedStream(@TempDir Path tmp) {
        try (TrainingSources data = open(TinyDatasets.write(tmp.resolve("ds"), 23))) {
            List<DataPosition> positions = new ArrayList<>();
            List<Long> whole = read(data, 3, true, 5, DataPosition.start(1), 60, positions);
            for (int k = 1; k < 50; k++) {
                DataPosition at = positions.get(k - 1);
                List<Long> resumed = read(data, 3, true, 5, at, 60 - k, null);
                assertEquals(whole.subList(k, 60), resumed, "resumed after row " + k + " at " + at);
            }
            assertEquals(new SourcePosition(1, 0), positions.get(22).sources().get(0), "an epoch is 23 rows");
            assertEquals(new SourcePosition(1, 1), positions.get(23).sources().get(0));
        }
    }

    @Test
    void readAheadStaysWithinTheShuffleBuffer(@TempDir Path tmp) {
        try (TrainingSources data = open(TinyDatasets.write(tmp.resolve("ds"), 40))) {
            DatasetSource source = data.sources().get(0);
            try (TrainingStream s = data.stream(1, true, 6, DataPosition.start(1))) {
                for (int i = 1; i <= 12; i++) {
                    s.next();
                    // i rows out + at most 6 buffered + 1 replacement read: ceil((i + 7) / 4) shards opened at most
                    int bound = (i + 7 + 3) / 4;
                    assertTrue(source.verifiedShards() <= bound, "after " + i + " rows " + source.verifiedShards()
                            + " shards were opened, bound " + bound);
                }
            }
            assertTrue(source.verifiedShards() < 10, "not all 10 shards were read for 12 rows");
        }
    }

    @Test
    void aCorruptShardStopsTheStreamNamingItOnlyWhenItsTurnComes(@TempDir Path tmp) throws Exception {
        Path dir = TinyDatasets.write(tmp.resolve("ds"), 12);
        Manifest m = Manifest.fromJson(Files.readString(dir.resolve(Manifest.FILE_NAME)), "m");
        Path shard = dir.resolve(m.shards().get(2).path());
        try (RandomAccessFile f = new RandomAccessFile(shard.toFile(), "rw")) {
            f.seek(f.length() / 2);
            int b = f.read();
            f.seek(f.length() / 2);
            f.write(b ^ 0x04);
        }
        try (TrainingSources data = open(dir)) {   // opening reads no shard: no pre-pass
            assertEquals(0, data.sources().get(0).verifiedShards());
            List<Long> got = new ArrayList<>();
            try (TrainingStream s = data.stream(0, false, 1, DataPosition.start(1))) {
                DatasetException e = assertThrows(DatasetException.class, () -> {
                    while (true) {
                        got.add(s.next().seqId());
                    }
                });
                assertTrue(e.getMessage().contains(shard.toString()) && e.getMessage().contains("checksum"), e.getMessage());
            }
            // in order, rows of shards 0 and 1 only (the last one may be held back: the buffer reads one row ahead)
            assertEquals(List.of(100L, 101L, 102L, 103L, 104L, 105L, 106L), got.subList(0, 7));
            assertTrue(got.stream().allMatch(id -> id < 108), "no row of the corrupt shard was used: " + got);
        }
    }

    /** Source a: 10 rows (seq_id 100..109), weight 3; source b: 7 rows (seq_id 1000..1006), weight 1. */
    private static TrainingSources twoWeightedSources(Path tmp) {
        Path a = TinyDatasets.write(tmp.resolve("a"), 10);
        List<PackedSequence> bRows = new ArrayList<>();
        for (PackedSequence r : TinyDatasets.rows(7)) {
            bRows.add(new PackedSequence(r.seqId() + 900, r.inputIds(), r.lossMask(), r.docStarts(), r.docLengths(),
                    r.continuesPrevious(), r.padding()));
        }
        Path b = TinyDatasets.write(tmp.resolve("b"), bRows, TinyDatasets.TOKENIZER);
        return open(List.of(a, b), new double[] {3, 1}, 0);
    }

    @Test
    void weightedSourcesInterleaveInProportionAndResumeExactly(@TempDir Path tmp) {
        try (TrainingSources data = twoWeightedSources(tmp)) {
            List<DataPosition> positions = new ArrayList<>();
            List<Long> ids = read(data, 11, true, 4, DataPosition.start(2), 4000, positions);
            long fromB = ids.stream().filter(id -> id >= 1000).count();
            assertEquals(0.25, fromB / 4000.0, 0.03, "source b has a quarter of the weight");
            DataPosition at = positions.get(1233);
            assertEquals(1234, at.drawn());
            assertEquals(ids.subList(1234, 1300), read(data, 11, true, 4, at, 66, null), "resumed mixture");
            // each source runs through its own epochs: a's rows by themselves are whole epochs of 10
            List<Long> aOnly = ids.stream().filter(id -> id < 1000).limit(30).toList();
            assertEquals(10, new HashSet<>(aOnly.subList(10, 20)).size());
        }
    }

    @Test
    void sourcesWithDifferentTokenizersAreRefusedNamingBoth(@TempDir Path tmp) {
        Path a = TinyDatasets.write(tmp.resolve("a"), 4);
        TokenizerInfo other = new TokenizerInfo("other-32", 32, 1, 2, 0,
                "00000000000000000000000000000000000000000000000000000000000000bb");
        Path b = TinyDatasets.write(tmp.resolve("b"), TinyDatasets.rows(4), other);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> open(List.of(a, b), new double[] {1, 1}, 0));
        assertTrue(e.getMessage().contains(a.toString()) && e.getMessage().contains(b.toString())
                && e.getMessage().contains("vocabulary SHA-256"), e.getMessage());
    }

    @Test
    void aShuffleBufferLargerThanAQuarterOfTheHeapIsRefusedUpFront(@TempDir Path tmp) {
        try (TrainingSources data = open(TinyDatasets.write(tmp.resolve("ds"), 4))) {
            data.requireBufferFits(1000, true, 4 * 1000 * 16 * 5);
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> data.requireBufferFits(1001, true, 4 * 1000 * 16 * 5));
            assertTrue(e.getMessage().contains("train.data.shuffle-buffer"), e.getMessage());
        }
    }

    @Test
    void batchesCarryTheDatasetMaskAndDocumentStarts() {
        PackedSequence row = new PackedSequence(5, new int[] {7, 8, 9, 2, 4, 5, 0, 0}, new byte[] {0, 1, 1, 1, 0, 1, 0, 0},
                new int[] {0, 4}, new int[] {4, 2}, false, 2);
        Batch on = new BatchAssembler(true).assemble(List.of(row));
        assertArrayEquals(new long[] {7, 8, 9, 2, 4, 5, 0, 0}, on.tokens()[0]);
        assertArrayEquals(new boolean[] {false, true, true, true, false, true, false, false}, on.lossMask()[0]);
        assertArrayEquals(new int[] {0, 4}, on.documentStarts()[0]);
        assertEquals(4, BatchAssembler.predictedTokens(on), "positions 1, 2, 3 and 5");
        Batch off = new BatchAssembler(false).assemble(List.of(row));
        assertNull(off.documentStarts(), "boundaries off: the row is one stream");
        assertArrayEquals(on.lossMask()[0], off.lossMask()[0]);
    }

    @Test
    void aDatasetWithALargerVocabularyThanTheModelIsRefused(@TempDir Path tmp) {
        TokenizerInfo big = new TokenizerInfo("big-vocab", 100, 1, 2, 0, TinyDatasets.TOKENIZER.vocabHash());
        try (DatasetSource data = DatasetSource.open(
                TinyDatasets.write(tmp.resolve("ds"), TinyDatasets.rows(2), big).toString(), CONF, 0, true)) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> data.requireFits(TinyDatasets.tinyModel(), "tiny"));
            assertTrue(e.getMessage().contains("big-vocab") && e.getMessage().contains("100")
                    && e.getMessage().contains("vocab_size 32"), e.getMessage());
            data.requireFits(new ai.chunkwise.train.model.LlamaConfig(100, 16, 32, 1, 2, 1, 8, 1e-5, 1e4, null, true, 64, 1, 2), "x");
        }
    }

    @Test
    void maxSequencesReadsOnlyTheFirstRows(@TempDir Path tmp) {
        try (TrainingSources data = open(List.of(TinyDatasets.write(tmp.resolve("ds"), 9)), new double[] {1}, 6)) {
            assertEquals(6, data.size());
            List<Long> ids = read(data, 2, true, 3, DataPosition.start(1), 12, null);
            assertEquals(Set.of(100L, 101L, 102L, 103L, 104L, 105L), new HashSet<>(ids.subList(0, 6)));
            assertEquals(Set.of(100L, 101L, 102L, 103L, 104L, 105L), new HashSet<>(ids.subList(6, 12)));
        }
    }

    @Test
    void batchStreamGroupsRowsAndReportsThePositionAfterEachBatch(@TempDir Path tmp) {
        try (TrainingSources data = open(TinyDatasets.write(tmp.resolve("ds"), 5))) {
            List<Long> rows = read(data, 3, true, 2, DataPosition.start(1), 6, null);
            try (BatchStream s = new BatchStream(data.stream(3, true, 2, DataPosition.start(1)), 2, true)) {
                PositionedBatch b0 = s.next();
                PositionedBatch b1 = s.next();
                PositionedBatch b2 = s.next();
                assertArrayEquals(new long[] {rows.get(0), rows.get(1)}, b0.sequenceIds());
                assertArrayEquals(new long[] {rows.get(4), rows.get(5)}, b2.sequenceIds());
                assertEquals(new SourcePosition(0, 4), b1.next().sources().get(0));
                assertEquals(new SourcePosition(1, 1), b2.next().sources().get(0));
                assertEquals(2, b0.batch().rows());
            }
        }
    }

    /**
     * A distributed run plans its batches by reference on the driver and lets executors read the rows: the references
     * must name exactly the rows the row stream yields, with the same positions, from the start and from a resumed
     * position, across a mixture of shuffled sources (compared with the row stream, which reads the shards itself).
     */
    @Test
    void theReferenceStreamNamesTheRowsTheRowStreamYieldsAtTheSamePositions(@TempDir Path tmp) {
        try (TrainingSources data = twoWeightedSources(tmp)) {
            List<DataPosition> positions = new ArrayList<>();
            List<Long> ids = read(data, 11, true, 4, DataPosition.start(2), 60, positions);
            for (int start : new int[] {0, 23}) {
                DataPosition from = start == 0 ? DataPosition.start(2) : positions.get(start - 1);
                TrainingReferenceStream refs = new TrainingReferenceStream(data, 11, true, 4, from);
                for (int i = start; i + 3 <= 60; i += 3) {
                    TrainingReferenceStream.PlannedBatch planned = refs.nextBatch(3);
                    List<Long> read = data.readRows(planned.rows()).stream().map(PackedSequence::seqId).toList();
                    assertEquals(ids.subList(i, i + 3), read, "rows " + i + ".." + (i + 2) + " from draw " + start);
                    assertEquals(positions.get(i + 2), planned.next(), "position after row " + (i + 2));
                }
            }
        }
    }
}
