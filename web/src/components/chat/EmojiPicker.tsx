// The emoji picker of **Add reaction**: frimousse (MIT, unstyled, no style injected, so it
// works under the CSP's style-src 'self'), loaded only when first opened (React.lazy), with
// Emojibase's data served from this origin (vite.config.ts, EMOJIBASE_URL).
import { EmojiPicker as Picker } from 'frimousse';

interface EmojiPickerProps {
  onPick: (emoji: string) => void;
}

export default function EmojiPicker({ onPick }: EmojiPickerProps) {
  return (
    <Picker.Root className="emoji-picker" emojibaseUrl="/assets/emojibase" columns={8} onEmojiSelect={({ emoji }) => onPick(emoji)}>
      <Picker.Search className="emoji-search" aria-label="Search emoji" placeholder="Search emoji" data-autofocus />
      <Picker.Viewport className="emoji-viewport">
        <Picker.Loading className="emoji-status">Loading emoji…</Picker.Loading>
        <Picker.Empty className="emoji-status">No emoji found.</Picker.Empty>
        <Picker.List
          className="emoji-list"
          components={{
            CategoryHeader: ({ category, ...props }) => (
              <div className="emoji-category" {...props}>
                {category.label}
              </div>
            ),
            Emoji: ({ emoji, ...props }) => (
              <button className="emoji-option" {...props}>
                {emoji.emoji}
              </button>
            ),
          }}
        />
      </Picker.Viewport>
    </Picker.Root>
  );
}
