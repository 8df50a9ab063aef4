package ai.chunkwise.train.loop;

import ai.chunkwise.train.data.DataPosition;
import ai.chunkwise.train.data.SourcePosition;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class TrainerStateTest {

    @Test
    void theDataPositionOfSeveralSourcesRoundTrips() {
        TrainerState s = new TrainerState(7, new DataPosition(29, List.of(new SourcePosition(1, 3),
                new SourcePosition(0, 11))), 4096, 1, 2, 3, 4);
        String json = s.toJson();
        assertTrue(json.contains("\"drawn\" : 29"), json);
        assertEquals(s, TrainerState.fromJson(json, "t"));
    }

    @Test
    void aVersionOneStateResumesAtItsEpochAndIndex() {
        String v1 = "{\"version\":1,\"step\":5,\"data_position\":{\"epoch\":2,\"index\":9},\"tokens_seen\":80,"
                + "\"seeds\":{\"data\":0,\"method\":1,\"init\":2,\"lora\":3}}";
        TrainerState s = TrainerState.fromJson(v1, "old");
        assertEquals(new DataPosition(0, List.of(new SourcePosition(2, 9))), s.position());
        assertEquals(5, s.step());
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> TrainerState.fromJson(v1.replace("\"version\":1", "\"version\":9"), "future.json"));
        assertTrue(e.getMessage().contains("future.json") && e.getMessage().contains("version 9"), e.getMessage());
    }
}
