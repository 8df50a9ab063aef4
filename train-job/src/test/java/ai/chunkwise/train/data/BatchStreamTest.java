package ai.chunkwise.train.data;

import ai.chunkwise.pipeline.packing.PackedSequence;
import ai.chunkwise.pipeline.tokenizer.TokenizerInfo;
import ai.chunkwise.train.engine.Batch;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class BatchStreamTest {

    @Test
    void everyEpochIsASeededPermutation() {
        EpochOrder order = new EpochOrder(50, 7, true);
        int[] e0 = order.permutation(0);
        int[] e1 = order.permutation(1);
        assertArrayEquals(e0, new EpochOrder(50, 7, true).permutation(0), "same seed and epoch, same order");
        assertFalse(Arrays.equals(e0, e1), "epochs differ");
        assertFalse(Arrays.equals(e0, new EpochOrder(50, 8, true).permutation(0)), "seeds differ");
        int[] sorted = e1.clone();
        Arrays.sort(sorted);
        for (int i = 0; i < 50; i++) {
            assertEquals(i, sorted[i], "a permutation holds every index once");
        }
        assertArrayEquals(new int[] {0, 1, 2, 3}, new EpochOrder(4, 7, false).permutation(3), "no shuffle: dataset order");
    }

    @Test
    void resumingFromAPositionContinuesTheSameSequenceOfBatches(@TempDir Path tmp) {
        TrainingSequences data = TrainingSequences.load(TinyDatasets.write(tmp.resolve("ds"), 5), 0, true);
        EpochOrder order = new EpochOrder(data.size(), 3, true);
        List<PositionedBatch> uninterrupted = new ArrayList<>();
        try (BatchStream s = new BatchStream(data, order, 2, true, DataPosition.START)) {
            for (int i = 0; i < 6; i++) {
                uninterrupted.add(s.next());
            }
        }
        // 12 sequences read from 5: epochs 0 and 1 complete, 2 read of epoch 2; each epoch reads every id once
        Set<Long> epoch0 = new HashSet<>();
        for (int i = 0; i < 5; i++) {
            epoch0.add(uninterrupted.get(i / 2).sequenceIds()[i % 2]);
        }
        assertEquals(Set.of(100L, 101L, 102L, 103L, 104L), epoch0);
        assertEquals(new DataPosition(2, 2), uninterrupted.get(5).next());
        assertEquals(new DataPosition(0, 4), uninterrupted.get(1).next());
        int[] e0 = order.permutation(0);
        assertArrayEquals(new long[] {100 + e0[0], 100 + e0[1]}, uninterrupted.get(0).sequenceIds());

        DataPosition resumeAt = uninterrupted.get(2).next();
        try (BatchStream s = new BatchStream(data, order, 2, true, resumeAt)) {
            for (int i = 3; i < 6; i++) {
                PositionedBatch b = s.next();
                assertArrayEquals(uninterrupted.get(i).sequenceIds(), b.sequenceIds(), "batch " + i);
                assertArrayEquals(uninterrupted.get(i).batch().tokens(), b.batch().tokens(), "batch " + i);
                assertEquals(uninterrupted.get(i).next(), b.next());
            }
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
        TrainingSequences data = TrainingSequences.load(
                TinyDatasets.write(tmp.resolve("ds"), TinyDatasets.rows(2), big), 0, true);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> data.requireFits(TinyDatasets.tinyModel(), "tiny"));
        assertTrue(e.getMessage().contains("big-vocab") && e.getMessage().contains("100")
                && e.getMessage().contains("vocab_size 32"), e.getMessage());
        data.requireFits(new ai.chunkwise.train.model.LlamaConfig(100, 16, 32, 1, 2, 1, 8, 1e-5, 1e4, null, true, 64, 1, 2), "x");
    }

    @Test
    void maxSequencesReadsOnlyTheFirstRows(@TempDir Path tmp) {
        TrainingSequences data = TrainingSequences.load(TinyDatasets.write(tmp.resolve("ds"), 5), 3, false);
        assertEquals(3, data.size());
        assertEquals(102, data.get(2).seqId());
        assertNotEquals(data.get(0), data.get(1));
    }
}
