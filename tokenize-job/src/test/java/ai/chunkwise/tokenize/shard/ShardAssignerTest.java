package ai.chunkwise.tokenize.shard;

import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** The shard and order of a document are the documented SHA-256 words, so a dataset rebuilds the same anywhere. */
class ShardAssignerTest {
    @Test
    void shardAndOrderAreTheDigestsFirstTwoWords() throws Exception {
        ShardAssigner a = new ShardAssigner(11, 7);
        for (long index = 0; index < 50; index++) {
            String file = "dir/part-" + index % 3 + ".jsonl";
            // the documented rule, recomputed here: SHA-256(seed, record index, file)
            MessageDigest d = MessageDigest.getInstance("SHA-256");
            d.update(ByteBuffer.allocate(16).putLong(11).putLong(index).array());
            d.update(file.getBytes(StandardCharsets.UTF_8));
            ByteBuffer h = ByteBuffer.wrap(d.digest());
            ShardKey k = a.keyOf(file, index);
            assertEquals((int) Long.remainderUnsigned(h.getLong(0), 7), k.shard());
            assertEquals(h.getLong(8), k.hash());
        }
    }
}
