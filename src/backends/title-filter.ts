/**
 * An attached run's terminal title is its label (launch/terminal-title.ts), so the agent's own title
 * sequences — OSC 0, 1 and 2, `ESC ] 0 ; … BEL` or `… ESC \` — are dropped from what the bottle's
 * pseudo-terminal relays to ours (pi sets "pi - <dir>" on every turn). Everything else passes unchanged,
 * including other OSC sequences (`ESC ] 10 ; ? BEL` and the like). A sequence split across chunks is held
 * until it is complete; a title longer than MAX_TITLE bytes is dropped as far as it goes. Pure state machine.
 */

const ESC = 0x1b;
const BEL = 0x07;
const MAX_TITLE = 4096;

export function titleFilter(): (chunk: Uint8Array) => Uint8Array {
  // 0 text; 1 ESC; 2 ESC ]; 3 ESC ] digit; 4 in a title; 5 in a title, after ESC
  let state = 0;
  let held: number[] = [];
  let dropped = 0;
  return (chunk) => {
    const out: number[] = [];
    for (let i = 0; i < chunk.length; i++) {
      const b = chunk[i]!;
      switch (state) {
        case 0:
          if (b === ESC) {
            state = 1;
            held = [b];
          } else out.push(b);
          break;
        case 1:
        case 2:
        case 3: {
          const next = state === 1 ? b === 0x5d /* ] */ : state === 2 ? b === 0x30 || b === 0x31 || b === 0x32 : b === 0x3b; /* ; */
          if (next && state < 3) {
            held.push(b);
            state++;
          } else if (next) {
            state = 4;
            held = [];
            dropped = 0;
          } else {
            out.push(...held);
            held = [];
            state = 0;
            i--; // look at this byte again as text
          }
          break;
        }
        case 4:
          if (b === BEL) state = 0;
          else if (b === ESC) state = 5;
          else if (++dropped > MAX_TITLE) state = 0;
          break;
        case 5:
          if (b === 0x5c /* \ */) state = 0;
          else {
            // ESC that is not the string terminator: the title ended, and this ESC starts something new.
            state = 1;
            held = [ESC];
            i--;
          }
          break;
      }
    }
    return Uint8Array.from(out);
  };
}
