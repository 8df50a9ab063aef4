package ai.chunkwise.pipeline.format;

import ai.chunkwise.pipeline.packing.PackedSequence;
import ai.chunkwise.pipeline.packing.PackingPolicy;
import ai.chunkwise.pipeline.tokenizer.TokenizerInfo;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Issue 9's minor findings: what `inspect` must refuse although checksums and schemas agree. */
class DatasetContentValidatorTest {

    @Test
    void tokenIdsOutsideTheVocabularyAreRejected(@TempDir Path dir) {
        // rows use ids up to 999; the header claims a vocabulary of 500
        TokenizerInfo small = new TokenizerInfo("test-vocab", 500, 1, 2, 0, TestDatasets.TOKENIZER.vocabHash());
        DatasetHeader header = new DatasetHeader(DatasetHeader.CURRENT_FORMAT_VERSION, small, 4, 3, PackingPolicy.CONCAT);
        TestDatasets.write(dir, TestDatasets.rows(PackingPolicy.CONCAT, 10, 3), header, 5, 2);
        DatasetException e = assertThrows(DatasetException.class, () -> DatasetInspector.summaryJson(dir));
        assertTrue(e.getMessage().contains("outside the tokenizer's vocabulary [0, 500)"), e.getMessage());
    }

    @Test
    void lossMaskValuesOtherThanZeroAndOneAreRejected(@TempDir Path dir) {
        List<PackedSequence> rows = new ArrayList<>(TestDatasets.rows(PackingPolicy.CONCAT, 10, 3));
        PackedSequence r = rows.get(1);
        byte[] mask = r.lossMask().clone();
        mask[3] = 2;
        rows.set(1, new PackedSequence(r.seqId(), r.inputIds(), mask, r.docStarts(), r.docLengths(),
                r.continuesPrevious(), r.padding()));
        TestDatasets.write(dir, rows, TestDatasets.header(PackingPolicy.CONCAT), 5, 2);
        DatasetException e = assertThrows(DatasetException.class, () -> DatasetInspector.summaryJson(dir));
        assertTrue(e.getMessage().contains("loss_mask value 2 at position 3"), e.getMessage());
    }

    @Test
    void aShardSymlinkLeadingOutsideTheDatasetIsRejected(@TempDir Path tmp) throws Exception {
        Path dir = tmp.resolve("ds");
        Manifest m = TestDatasets.write(dir, TestDatasets.rows(PackingPolicy.CONCAT, 10, 3),
                TestDatasets.header(PackingPolicy.CONCAT), 5, 2);
        Path shard = dir.resolve(m.shards().get(0).path());
        Path outside = tmp.resolve("elsewhere.arrow");
        Files.move(shard, outside);
        Files.createSymbolicLink(shard, outside);   // same bytes, same checksum: only the link gives it away
        DatasetException e = assertThrows(DatasetException.class, () -> DatasetInspector.summaryJson(dir));
        assertTrue(e.getMessage().contains("symbolic link that leads outside") && e.getMessage().contains(shard.toString()),
                e.getMessage());
    }

    @Test
    void aSymlinkInsideTheDatasetIsFine(@TempDir Path tmp) throws Exception {
        Path dir = tmp.resolve("ds");
        Manifest m = TestDatasets.write(dir, TestDatasets.rows(PackingPolicy.CONCAT, 10, 3),
                TestDatasets.header(PackingPolicy.CONCAT), 5, 2);
        Path shard = dir.resolve(m.shards().get(0).path());
        Path moved = dir.resolve("real-shard.arrow");
        Files.move(shard, moved);
        Files.createSymbolicLink(shard, moved);
        assertTrue(DatasetInspector.summaryJson(dir).contains("content_digest"));
    }

    @Test
    void aSchemaMismatchNamesTheDifferingColumnOrKey(@TempDir Path tmp) throws Exception {
        Path dir = tmp.resolve("ds");
        Manifest m = TestDatasets.write(dir, TestDatasets.rows(PackingPolicy.CONCAT, 30, 11),
                TestDatasets.header(PackingPolicy.CONCAT), 5, 2);
        Manifest foreign = TestDatasets.write(tmp.resolve("other"), TestDatasets.rows(PackingPolicy.CONCAT, 30, 11),
                TestDatasets.header(PackingPolicy.BFD), 5, 2);
        ShardEntry f = foreign.shards().get(0);
        Files.copy(tmp.resolve("other").resolve(f.path()), dir.resolve(m.shards().get(0).path()),
                java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        List<ShardEntry> shards = new ArrayList<>(m.shards());
        shards.set(0, new ShardEntry(m.shards().get(0).path(), f.rows(), f.tokens(), f.bytes(), f.sha256()));
        Files.writeString(dir.resolve(Manifest.FILE_NAME), new Manifest(m.formatVersion(), m.createdBy(), m.header(),
                m.config(), m.counts(), shards).toJson());
        DatasetException e = assertThrows(DatasetException.class, () -> DatasetReader.open(dir).close());
        // the two headers differ only in the packing policy: the message must say so, not print both in full
        assertTrue(e.getMessage().matches("(?s).*metadata '[^']*packing[^']*' is '[^']*bfd[^']*', expected '[^']*concat.*"),
                e.getMessage());
    }
}
