import { hasReacted, reactedBy } from '../../lib/reactions';
import type { Reaction } from '../../types';

interface ReactionsProps {
  reactions: Reaction[];
  me: string | null;
  onToggle: (emoji: string, on: boolean) => void;
}

/** A toggle per emoji, named by the emoji and its count; who reacted is its description. */
export function Reactions({ reactions, me, onToggle }: ReactionsProps) {
  if (reactions.length === 0) return null;
  return (
    <ul className="reactions" aria-label="Reactions">
      {reactions.map((reaction) => {
        const mine = hasReacted(reaction, me);
        return (
          <li key={reaction.emoji}>
            <button
              type="button"
              className={mine ? 'reaction mine' : 'reaction'}
              aria-pressed={mine}
              title={`Reacted with ${reaction.emoji}: ${reactedBy(reaction, me)}`}
              onClick={() => onToggle(reaction.emoji, !mine)}
            >
              <span className="reaction-emoji">{reaction.emoji}</span> <span className="reaction-count">{reaction.users.length}</span>
            </button>
          </li>
        );
      })}
    </ul>
  );
}
