export interface AcceptFilesOptions {
  /** The element that takes drops (the whole tab, so a near miss still counts). */
  target: HTMLElement;
  /** Highlighted while something is dragged over `target`. */
  dropZone: HTMLElement;
  /** The "Choose…" file input. */
  input: HTMLInputElement;
  /** The usable file of a drop; default: the first file. */
  pick?: (transfer: DataTransfer | null) => File | undefined;
  onFile: (file: File) => void;
  /** A drop held no usable file. */
  onRejected?: () => void;
}

/** Wire a file input and a drag-and-drop zone to one handler (each demo tab takes files both ways). */
export function acceptFiles({ target, dropZone, input, pick = (t) => t?.files[0], onFile, onRejected }: AcceptFilesOptions): void {
  input.addEventListener('change', () => {
    const file = input.files?.[0];
    if (file) onFile(file);
    // Choosing the same file again must fire 'change' again.
    input.value = '';
  });
  target.addEventListener('dragover', (event) => {
    event.preventDefault();
    dropZone.classList.add('dragging');
  });
  target.addEventListener('dragleave', () => dropZone.classList.remove('dragging'));
  target.addEventListener('drop', (event) => {
    event.preventDefault();
    dropZone.classList.remove('dragging');
    const file = pick(event.dataTransfer);
    if (file) onFile(file);
    else onRejected?.();
  });
}
