// The chat template the shipped models carry (`tokenizer.chat_template`). They are tiny models trained on
// plain English documents written as `<s> text </s>`, with a 1,024-token ASCII vocabulary: they know no chat
// markup, and tokens such as `<|im_start|>` are not in their vocabulary (they would be spelled out byte by byte).
// So the turns are plain text a model this size can follow: one line per message, labelled with its role
// ("System: ", "User: ", and any other role the same way), the assistant's turn ended by EOS as every training
// document is, and the generation prompt ending with the bare "Assistant:" label, so the reply's first word
// brings its own space, as SentencePiece tokenizes it. The labels are not those of any chat format that
// node-llama-cpp knows, so its resolveChatWrapper renders this template itself (JinjaTemplateChatWrapper).
export const PLAIN_CHAT_TEMPLATE = [
  '{{- bos_token }}',
  '{%- for message in messages %}',
  "    {%- if message['role'] == 'assistant' %}",
  "        {{- 'Assistant: ' + message['content'] + eos_token + '\\n' }}",
  '    {%- else %}',
  "        {{- message['role'] | capitalize + ': ' + message['content'] + '\\n' }}",
  '    {%- endif %}',
  '{%- endfor %}',
  '{%- if add_generation_prompt %}',
  "    {{- 'Assistant:' }}",
  '{%- endif %}',
].join('\n');
